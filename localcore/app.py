"""localcore as one object: broker, gateway (Cognito, IoT control plane, iot-data, function URLs), rules
engine, Lambda runtime and DynamoDB (on the gateway too), wired the way AWS wires them for iotstream.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from iot_policies.library import policy_dir
from iot_rules.definitions import load_rules, rules_dir
from localcore.aio.service import Service
from localcore.broker.codec import RC
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.limits import BrokerLimits
from localcore.broker.server import BrokerServer, ServerConfig
from localcore.dynamodb.service import LocalDynamoDB
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
from localcore.iot.connect_auth import StackAuthenticator
from localcore.iot.data_api import IotDataApi
from localcore.lambda_runtime import LambdaRuntime
from localcore.rules.engine import RulesEngine
from localcore.rules.log_groups import LogGroupFiles
from localcore.sigv4 import SigV4Verifier
from streaming.status import DEFAULT_DASHBOARD_SHARDS, dashboard_shards

log = logging.getLogger("localcore")

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
DASHBOARD_GROUP = "dashboard"
IOTSTREAM_PASSWORD_POLICY = PasswordPolicy(minimum_length=12, require_symbols=False)
"""The deployed user pool's policy (cdk/parts/identity.py; tests/cdk checks they agree): a password
accepted locally is accepted on AWS."""


@dataclass
class LocalcoreConfig:
    """Ports (0 = any free port, None = off), sources of policies/rules/functions, behaviour switches."""

    host: str = "127.0.0.1"
    mqtt_port: int | None = 1883
    mqtts_port: int | None = 8883
    ws_port: int | None = 8080
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
    """The whole local stack on one asyncio loop (moto's DynamoDB runs in its own worker thread)."""

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
        self.iot = IotBackend(config.region, config.account)
        """The IoT service's state: policies, their attachments, topic rules."""
        self.iot.policies.load(_iot_policies(config))
        self.principals = PrincipalPolicies(self.iot.policies)
        self.verifier = SigV4Verifier(self.identity.store, clock=self.identity.now, region=config.region)
        self.iam = IamAuthorizer(self.verifier, self.principals)
        local_mode = config.policy_prefix + config.local_mode_policy if config.local_mode else None
        self.broker_server = BrokerServer(
            ServerConfig(
                host=config.host,
                mqtt_port=config.mqtt_port,
                mqtts_port=config.mqtts_port,
                ws_port=config.ws_port,
                state_dir=config.state_dir,
                limits=config.limits,
            ),
            StackAuthenticator(
                self.principals,
                self.iot.policies,
                local_mode,
                None if config.admin_on_mqtt else self.admin.access_key_id,
            ),
            self.identity.handshake_verifier(explain=config.explain_refusals),
        )
        self.broker = self.broker_server.broker
        self.iot.policies.on_change(self.broker.refresh_authorization)
        self.identity.identity_ended.append(self._disconnect_identity)
        # The gateway may use a quarter of the descriptors (raised to the hard limit first): the broker keeps the rest.
        self.gateway = Gateway(limits=config.http_limits.within(raise_open_files_limit()))
        self.dynamodb = LocalDynamoDB(self.iam, config.region, config.account)
        self.runtime: LambdaRuntime | None = None
        self.engine: RulesEngine | None = None
        self.rule_logs = LogGroupFiles(config.state_dir / "rule-logs")  # the rules' cloudwatchLogs actions
        self.endpoints: dict[str, Any] = {}
        self.dashboard_shards = DEFAULT_DASHBOARD_SHARDS
        """The prompt function's DASHBOARD_SHARDS: dashboards open one connection per shard."""
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
            "AWS_ENDPOINT_URL_DYNAMODB": self.gateway_url,
        }

    async def start(self) -> None:
        """Start every part; each started part is entered on an exit stack, so a failure part-way (a port taken,
        a cancelled start) stops again what had started, in reverse order, before the error propagates. The
        broker starts last and so stops first: no message reaches a stopped engine, runtime or gateway."""
        if self._running is not None:
            raise RuntimeError("localcore is already started")
        config = self.config
        for rule in load_rules(
            config.rules_dir
        ):  # before any server starts: a bad rule fails fast, leaks nothing
            self.iot.rules.create(rule.name, rule.to_topic_rule_payload(self.function_arn))
        IotApi(self.iot, self.iam, self._data_endpoint).mount(self.gateway)
        IotDataApi(self.principals, self.verifier, self.broker.publish).mount(self.gateway)
        FunctionUrls(self._runtime, self.verifier, ("attach_policy",), config.account).mount(self.gateway)
        self.identity.mount(self.gateway, self._cognito_admin_check)
        self.dynamodb.mount(self.gateway)
        async with contextlib.AsyncExitStack() as started:
            started.push_async_callback(asyncio.to_thread, self.dynamodb.close)
            await started.enter_async_context(self.gateway.serving(config.host, config.http_port))
            await asyncio.to_thread(self.dynamodb.create_table, self.gateway_url, STATE_TABLE, self.admin)
            self.dynamodb.start_sweeping()
            started.push_async_callback(self.dynamodb.stop_sweeping)
            self.identity.set_public_url(self.gateway_url)
            self.runtime = await started.enter_async_context(self._lambda_runtime())
            self.engine = RulesEngine(
                self.iot.rules, self.runtime, self.broker, config.account, log_sink=self.rule_logs
            )
            started.push_async_callback(self.engine.wait_idle)
            self.broker.add_listener(self.engine.on_message)
            await started.enter_async_context(self.broker_server)
            self._running = started.pop_all()
        self.endpoints = self._describe()
        log.info("localcore ready: %s", json.dumps(self.endpoints))

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
        prompt = next((f for f in functions if f.name == "prompt"), None)
        self.dashboard_shards = (
            dashboard_shards(prompt.environment) if prompt is not None else DEFAULT_DASHBOARD_SHARDS
        )
        return LambdaRuntime(
            functions,
            {},
            region=config.region,
            account_id=config.account,
            concurrency=config.functions.concurrency,
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

    def _disconnect_identity(self, identity_id: str) -> None:
        """The identity's user was disabled or deleted: close its MQTT connections (MQTT 5: DISCONNECT 0x87),
        as its credentials were just revoked. AWS leaves them open; localcore takes the strict side."""
        for connection in list(self.broker.connections):
            if connection.protocol.principal == identity_id:
                connection.close(DisconnectReason.AUTH_ERROR, RC.NOT_AUTHORIZED)

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
            "dashboard_shards": self.dashboard_shards,
            "admin_access_key_id": self.admin.access_key_id,
            "admin_secret_access_key": self.admin.secret_access_key,
            "environment": self.boto3_environment(),
        }

    async def stop(self) -> None:
        """Stop what `start` started, in reverse order: broker, rules engine (idle), runtime, gateway, DynamoDB."""
        running, self._running = self._running, None
        if running is not None:
            await running.aclose()
