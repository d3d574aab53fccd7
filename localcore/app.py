"""localcore as one object: broker, gateway (Cognito, IoT control plane, iot-data, function URLs), rules
engine, Lambda runtime and the AWS data services (DynamoDB, SQS, SNS, S3, Kinesis, Firehose, CloudWatch,
IAM; on the gateway too), wired the way AWS wires them for iotstream.

    async with Localcore(LocalcoreConfig(mqtt_port=0, ...)) as core:
        core.endpoints   # everything a client or boto3 needs, also written to --ready-file

`await core.start()` / `await core.stop()` do the same in two calls. A start that fails (a port taken:
`ListenError`; a bad rule) stops again every part it had started, in reverse order, before it raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from aiohttp import web

from iot_policies.library import policy_dir
from iot_rules.definitions import load_rules, rules_dir
from localcore.aio.memory import MemoryTrimmer
from localcore.aio.service import Service
from localcore.broker.codec import RC
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.limits import BrokerLimits
from localcore.broker.server import BrokerServer, ServerConfig
from localcore.functions import STATE_TABLE, FunctionSettings, function_configs
from localcore.functions.urls import FunctionUrls, function_url
from localcore.http.connections import HttpLimits, raise_open_files_limit
from localcore.http.gateway import Gateway
from localcore.iam.admin_key import ADMIN_PRINCIPAL, admin_credentials
from localcore.iam.authorizer import IamAuthorizer
from localcore.iam.principals import PrincipalPolicies
from localcore.identity.credentials import Role
from localcore.identity.passwords import PasswordPolicy
from localcore.identity.service import IdentityConfig, IdentityService, load_role
from localcore.iot.api import IotApi
from localcore.iot.backend import IotBackend
from localcore.iot.certificates import StoredCertificate
from localcore.iot.connect_auth import StackAuthenticator
from localcore.iot.data_api import IotDataApi
from localcore.iot.issuer import DeviceIssuer
from localcore.lambda_runtime import LambdaRuntime
from localcore.observe import EventLog
from localcore.observe.routes import SERVICE as LOCALCORE_SERVICE
from localcore.observe.routes import LocalcoreRoutes
from localcore.observe.sources import BrokerEvents, FunctionEvents, ObservedAuthenticator, RuleEvents
from localcore.observe.status import connection_info, stack_status
from localcore.persistence import STATE_FILE, Snapshotting, StateFile, StateSaver
from localcore.rules.engine import RulesEngine
from localcore.rules.log_groups import LogGroupFiles
from localcore.services.front import AwsServices
from localcore.services.permissions.place import Place
from localcore.services.role_calls import RoleCaller
from localcore.sigv4 import SigV4Verifier
from localcore.version import installed_version

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger("localcore")


ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
DASHBOARD_GROUP = "dashboard"
IOTSTREAM_PASSWORD_POLICY = PasswordPolicy(minimum_length=12, require_symbols=False)
"""The deployed user pool's policy (cdk/parts/identity.py; tests/cdk checks they agree): a password
accepted locally is accepted on AWS."""


@dataclass(frozen=True)
class Application:
    """What the served application adds around its functions, as its CDK app does on AWS: localcore imports
    no application code, the application passes this in (iotstream's: `clients.local_app.IOTSTREAM`)."""

    create_tables: Callable[[DynamoDBClient, str], None] | None = None
    """At start, once the data services serve: (a boto3 DynamoDB client signed with the admin key, the name
    of the state table the manifest's `stateTable` grants access to)."""
    outputs: Callable[[Mapping[str, Mapping[str, str]]], Mapping[str, Any]] | None = None
    """Extra entries of `endpoints` (and the ready file), from each function's environment by name: what the
    application's CDK stack outputs."""


@dataclass
class LocalcoreConfig:
    """Ports (0 = any free port, None = off), sources of policies/rules/functions, behaviour switches."""

    host: str = "127.0.0.1"
    mqtt_port: int | None = 1883
    mqtts_port: int | None = 8883  # X.509 client certificates (devices), as AWS's 8883
    ws_port: int | None = 8080
    wss_port: int | None = 8443  # MQTT over WebSockets with TLS (the local CA), as AWS's 443
    http_port: int = 4566
    state_dir: Path = field(default_factory=lambda: Path(".localcore"))
    region: str = "us-east-1"
    account: str = "000000000000"
    policies_dir: Path = field(default_factory=policy_dir)
    rules_dir: Path = field(default_factory=rules_dir)
    policy_prefix: str = "iotstream-"
    functions: FunctionSettings = field(default_factory=FunctionSettings)
    local_mode: bool = True  # plain MQTT: username = identity id, the user policy applies
    local_mode_policy: str = "user"  # local-mode connections get `<policy_prefix><this>` from the store
    auto_confirm: bool = True  # AWS: the user confirms the emailed code first (docs/identity.md)
    limits: BrokerLimits = field(default_factory=BrokerLimits)
    explain_refusals: bool = False  # development: a refused SigV4 WebSocket upgrade says why in its 403 body
    admin_on_mqtt: bool = False  # development: accept the local admin key (allowed everything) on MQTT
    http_limits: HttpLimits = field(default_factory=HttpLimits)  # capped at start by the open-files limit
    project_dir: Path | None = None  # where the folders above come from (shown by /_localcore/info)
    persist: bool = False  # keep users, attachments, rules, retained messages... in <state-dir>/state.json
    application: Application = field(default_factory=Application)  # its tables and outputs


def _iot_policies(config: LocalcoreConfig) -> list[tuple[str, str]]:
    """(name, document) for every IoT policy file; role-*.json are IAM role policies, not IoT ones."""
    return [
        (config.policy_prefix + path.stem, path.read_text())
        for path in sorted(config.policies_dir.glob("*.json"))
        if not path.stem.startswith("role-")
    ]


def _role(config: LocalcoreConfig, name: str, file: str) -> Role:
    path = config.policies_dir / file
    return (
        load_role(f"{config.policy_prefix}{name}", str(path))
        if path.exists()
        else Role(config.policy_prefix + name)
    )


class Localcore(Service):
    """The whole local stack on one asyncio loop (moto's services run on their own worker thread)."""

    def __init__(self, config: LocalcoreConfig | None = None) -> None:
        self.config = config = config or LocalcoreConfig()
        self.identity = IdentityService(
            IdentityConfig(
                region=config.region,
                auto_confirm=config.auto_confirm,
                password_policy=IOTSTREAM_PASSWORD_POLICY,
                authenticated_role=_role(config, "authenticated", "role-authenticated.json"),
                group_roles={DASHBOARD_GROUP: _role(config, "dashboard", "role-dashboard.json")},
            )
        )
        self.admin = admin_credentials(config.state_dir)
        """The local admin's key (allowed everything on the AWS APIs), from the state dir."""
        self.identity.store.mint_iam(
            Role("localcore-admin", ALLOW_ALL, config.account),
            ADMIN_PRINCIPAL,
            keys=(self.admin.access_key_id, self.admin.secret_access_key),
        )
        self.iot = IotBackend(config.region, config.account, DeviceIssuer(config.state_dir / "tls"))
        """The IoT service's state: policies, their attachments, topic rules, certificates, things."""
        self.iot.policies.load(_iot_policies(config))
        self.principals = PrincipalPolicies(self.iot.policies)
        self.verifier = SigV4Verifier(self.identity.store, clock=self.identity.now, region=config.region)
        self.iam = IamAuthorizer(self.verifier, self.principals)
        local_mode = config.policy_prefix + config.local_mode_policy if config.local_mode else None
        self.events = EventLog()
        """Structured event lines (`iotstream logs`, `up --verbose`, `/_localcore/events`)."""
        self.authenticator = ObservedAuthenticator(
            StackAuthenticator(
                self.principals,
                self.iot,
                local_mode,
                None if config.admin_on_mqtt else self.admin.access_key_id,
                (self.admin.access_key_id, self.admin.secret_access_key),
            ),
            self.events,
        )
        self.rule_events = RuleEvents(self.events)
        self.broker_server = BrokerServer(
            ServerConfig(
                host=config.host,
                mqtt_port=config.mqtt_port,
                mqtts_port=config.mqtts_port,
                ws_port=config.ws_port,
                wss_port=config.wss_port,
                state_dir=config.state_dir,
                limits=config.limits,
            ),
            self.authenticator,
            self.identity.handshake_verifier(explain=config.explain_refusals),
        )
        self.broker = self.broker_server.broker
        self.broker.add_listener(
            BrokerEvents(self.events, lambda client: connection_info(self.broker, client))
        )
        self.iot.policies.on_change(self.broker.refresh_authorization)
        self.iot.things.on_change(self.broker.refresh_authorization)
        self._trust_device_certificates()
        self.identity.identity_ended.append(self._disconnect_identity)
        # The gateway may use a quarter of the descriptors (raised to the hard limit first): the broker keeps the rest.
        self.gateway = Gateway(limits=config.http_limits.within(raise_open_files_limit()))
        self.services = AwsServices(self.iam, Place(config.region, config.account))
        """DynamoDB, SQS, SNS, S3, Kinesis, Firehose, CloudWatch and IAM: moto behind SigV4 and IAM."""
        self.rule_roles = RoleCaller(self.services, self.identity.store, self.admin, lambda: self.gateway_url)
        """How rule actions call those services (and post `http` actions): as their role."""
        self.runtime: LambdaRuntime | None = None
        self.engine: RulesEngine | None = None
        self.rule_logs = LogGroupFiles(config.state_dir / "rule-logs")  # the rules' cloudwatchLogs actions
        self.saver: StateSaver | None = None
        if config.persist:
            parts: dict[str, Snapshotting] = {
                "iot": self.iot,
                "identity": self.identity,
                "retained": self.broker.retained,
            }
            self.saver = StateSaver(StateFile(config.state_dir / STATE_FILE), parts)
        """With `persist`: restores the state at start, saves it after changes and at stop."""
        self.endpoints: dict[str, Any] = {}
        self.application_outputs: Mapping[str, Any] = {}
        """`config.application.outputs` of the functions started (in `endpoints` too)."""
        self._running: contextlib.AsyncExitStack | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://{self.config.host}:{self.gateway.port}"

    def function_arn(self, name: str) -> str:
        """A function's ARN. Like AWS, a rule may name a function that does not exist: invoking it fails and
        the rule's errorAction runs."""
        return f"arn:aws:lambda:{self.config.region}:{self.config.account}:function:{name}"

    def boto3_environment(self) -> dict[str, str]:
        """The variables that point boto3 at localcore (for the Lambdas and for users' shells)."""
        return {
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_ENDPOINT_URL_IOT": self.gateway_url,
            "AWS_ENDPOINT_URL_IOT_DATA_PLANE": self.gateway_url,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": self.gateway_url,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY": self.gateway_url,
            **self.services.environment(self.gateway_url),
        }

    async def start(self) -> None:
        """Start every part; each started part is entered on an exit stack, so a failure part-way (a port taken,
        a cancelled start) stops again what had started, in reverse order, before the error propagates. The
        broker starts last and so stops first: no message reaches a stopped engine, runtime or gateway."""
        if self._running is not None:
            raise RuntimeError("localcore is already started")
        config = self.config
        # before any server starts: a bad rule fails fast, leaks nothing
        rules = load_rules(config.rules_dir)
        self.iot.rules.load((rule.name, rule.to_topic_rule_payload(self.function_arn)) for rule in rules)
        IotApi(self.iot, self.iam, self._data_endpoint).mount(self.gateway)
        IotDataApi(self.principals, self.verifier, self.broker.publish).mount(self.gateway)
        FunctionUrls(self._runtime, self.verifier, ("attach_policy",), config.account).mount(self.gateway)
        self.identity.mount(self.gateway, self._cognito_admin_check)
        self.services.mount(self.gateway)
        LocalcoreRoutes(self.events, self.info, self.status, self._localcore_admin_check).mount(self.gateway)
        async with contextlib.AsyncExitStack() as started:
            if self.saver is not None:  # restored before anything serves; saved last, after all has stopped
                await started.enter_async_context(self.saver)
            started.push_async_callback(asyncio.to_thread, self.services.close)
            await started.enter_async_context(self.gateway.serving(config.host, config.http_port))
            started.callback(self.events.close)  # event followers end before the gateway waits for them
            create_tables = config.application.create_tables
            if create_tables is not None:
                await asyncio.to_thread(create_tables, self._admin_client("dynamodb"), STATE_TABLE)
            self.services.moto.start_sweeping()
            started.push_async_callback(self.services.moto.stop_sweeping)
            self.identity.set_public_url(self.gateway_url)
            self.runtime = await started.enter_async_context(self._lambda_runtime())
            started.push_async_callback(self.rule_roles.close)
            self.engine = RulesEngine(
                self.iot.rules,
                self.runtime,
                self.broker,
                config.account,
                log_sink=self.rule_logs,
                services=self.rule_roles,
            )
            self.engine.observers.append(self.rule_events)
            started.push_async_callback(self.engine.wait_idle)
            self.broker.add_listener(self.engine.on_message)
            await started.enter_async_context(self.broker_server)
            await started.enter_async_context(MemoryTrimmer())
            self._running = started.pop_all()
        self.endpoints = self._describe()
        log.info("localcore ready: %s", json.dumps(self.endpoints))

    def _admin_client(self, service: str) -> Any:
        """A boto3 client of one of localcore's services, signed with the admin key (blocking calls)."""
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.gateway_url,
            region_name=self.config.region,
            aws_access_key_id=self.admin.access_key_id,
            aws_secret_access_key=self.admin.secret_access_key,
        )

    def _lambda_runtime(self) -> LambdaRuntime:
        """The runtime for the manifest's functions, with localcore's endpoints and each function's settings."""
        config = self.config
        lambda_env = {**self.boto3_environment(), "STATE_TABLE": STATE_TABLE}
        functions = function_configs(
            config.functions,
            self.identity.store,
            lambda_env,
            config.account,
            {"attach_policy": self._attach_environment()},
        )
        outputs = config.application.outputs
        if outputs is not None:
            self.application_outputs = outputs({f.name: f.environment for f in functions})
        return LambdaRuntime(
            functions,
            {},
            region=config.region,
            account_id=config.account,
            concurrency=config.functions.concurrency,
            log_listener=FunctionEvents(self.events),
        )

    def _attach_environment(self) -> dict[str, str]:
        """What cdk/stack.py gives the attach-policy function, with localcore's pool, roles and policies."""
        identity = self.identity.config
        prefix = self.config.policy_prefix
        return {
            "IDENTITY_POOL_ID": identity.identity_pool_id,
            "USER_POOL_PROVIDER_NAME": self.identity.user_pools.pools[identity.user_pool_id].provider_name,
            "AUTHENTICATED_ROLE_NAME": identity.authenticated_role.name,
            "DASHBOARD_ROLE_NAME": identity.group_roles[DASHBOARD_GROUP].name,
            "DASHBOARD_GROUP": DASHBOARD_GROUP,
            "IOT_USER_POLICY": f"{prefix}user",
            "IOT_DASHBOARD_POLICY": f"{prefix}dashboard",
        }

    def _trust_device_certificates(self) -> None:
        """The TLS listener accepts certificates from the device CA and every registered certificate (the
        authenticator then checks each is known and ACTIVE); a certificate leaving ACTIVE drops its devices."""
        server = self.broker_server
        server.trust_client_certificate(self.iot.issuer.certificate_pem)
        self.iot.certificates.on_added(lambda certificate: server.trust_client_certificate(certificate.pem))
        self.iot.certificates.on_deactivated(self._disconnect_certificate)

    def _disconnect_certificate(self, certificate: StoredCertificate) -> None:
        """AWS: "Within a few minutes of updating a certificate from the ACTIVE state to any other state, AWS IoT
        disconnects all devices that used that certificate" (API_UpdateCertificate.html); localcore does it at
        once (MQTT 5: DISCONNECT 0x87, lifecycle AUTH_ERROR)."""
        self._disconnect_principal(certificate.certificate_id)

    def _disconnect_identity(self, identity_id: str) -> None:
        """The identity's user was disabled or deleted: close its MQTT connections (MQTT 5: DISCONNECT 0x87),
        as its credentials were just revoked. AWS leaves them open; localcore takes the strict side."""
        self._disconnect_principal(identity_id)

    def _disconnect_principal(self, principal: str) -> None:
        for connection in list(self.broker.connections):
            if connection.protocol.principal == principal:
                connection.close(DisconnectReason.AUTH_ERROR, RC.NOT_AUTHORIZED)

    async def _localcore_admin_check(self, request: web.Request, action: str) -> object:
        return await self.iam.authorize(request, {LOCALCORE_SERVICE}, action, "*")

    def info(self) -> dict[str, Any]:
        """`/_localcore/info`: what runs and where, without the admin secret."""
        secret = {"admin_access_key_id", "admin_secret_access_key"}
        local_mode = self.config.policy_prefix + self.config.local_mode_policy
        return {
            "version": installed_version(),
            "project": str(self.config.project_dir) if self.config.project_dir else None,
            "persist": self.config.persist,
            "endpoints": {key: value for key, value in self.endpoints.items() if key not in secret},
            "rules": [rule.name for rule in self.iot.rules.all()],
            "policies": [policy.name for policy in self.iot.policies.list_policies()],
            "local_mode_policy": local_mode if self.config.local_mode else None,
            "functions": self.runtime.function_names if self.runtime is not None else [],
        }

    def status(self) -> dict[str, Any]:
        """`/_localcore/status` (admin only): connections, rule and function counters, recent refusals."""
        return stack_status(
            self.broker,
            self.iot.rules.all(),
            self.rule_events.counters,
            self.runtime,
            self.authenticator.recent_denials,
        )

    async def _cognito_admin_check(self, request: web.Request, action: str) -> object:
        pool = f"arn:aws:cognito-idp:{self.config.region}:{self.config.account}:userpool/*"
        return await self.iam.authorize(request, {"cognito-idp"}, action, pool)

    def _runtime(self) -> LambdaRuntime:
        if self.runtime is None:
            raise RuntimeError("the Lambda runtime is not started yet")
        return self.runtime

    def _data_endpoint(self) -> str:
        return self.broker_server.endpoints.get("mqtts", self.broker_server.endpoints.get("mqtt", ""))

    def _describe(self) -> dict[str, Any]:
        identity = self.identity.config
        return {
            **self.broker_server.endpoints,
            "http": self.gateway_url,
            "dynamodb": self.gateway_url,
            "region": self.config.region,
            "user_pool_id": identity.user_pool_id,
            "user_pool_client_id": identity.client_id,
            "identity_pool_id": identity.identity_pool_id,
            "attach_policy_url": function_url(self.gateway_url, "attach_policy"),
            **self.application_outputs,
            "admin_access_key_id": self.admin.access_key_id,
            "admin_secret_access_key": self.admin.secret_access_key,
            "environment": self.boto3_environment(),
        }

    async def stop(self) -> None:
        """Stop what `start` started, in reverse order: broker, rules engine (idle), runtime, gateway, moto."""
        running, self._running = self._running, None
        if running is not None:
            await running.aclose()
