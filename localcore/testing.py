"""The whole local stack in a background thread, on 127.0.0.1 with free ports: for tests and tools."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

from localcore.aio.loop_thread import LoopThread
from localcore.app import Localcore, LocalcoreConfig
from localcore.broker.message import Message
from localcore.broker.testing import MqttTestClient

FREE_PORTS: dict[str, Any] = {
    "mqtt_port": 0,
    "mqtts_port": None,
    "ws_port": 0,
    "wss_port": None,
    "http_port": 0,
}
"""Every listener on a free port (the TLS ones off): what tests and tools start with."""


def free_port_config(**overrides: Any) -> LocalcoreConfig:
    """A config with every port free (0) and state in a temporary folder."""
    return dataclasses.replace(LocalcoreConfig(**FREE_PORTS), **overrides)


class RunningLocalcore:
    """`with RunningLocalcore(config) as core:` — the stack runs until the block ends."""

    def __init__(self, config: LocalcoreConfig | None = None) -> None:
        self._tempdir = tempfile.TemporaryDirectory(prefix="localcore-")
        config = config or free_port_config()
        if config.state_dir == Path(".localcore"):
            config = dataclasses.replace(config, state_dir=Path(self._tempdir.name))
        self.core = Localcore(config)
        self.thread = LoopThread("localcore")

    @property
    def endpoints(self) -> dict[str, Any]:
        return self.core.endpoints

    @property
    def mqtt_port(self) -> int:
        return self.core.broker_server.mqtt_port

    @property
    def ws_port(self) -> int:
        return self.core.broker_server.ws_port

    @property
    def mqtts_port(self) -> int:
        return self.core.broker_server.mqtts_port

    @property
    def wss_port(self) -> int:
        return self.core.broker_server.wss_port

    @property
    def url(self) -> str:
        return self.core.gateway_url

    def start(self) -> RunningLocalcore:
        """Start the stack on its thread; if it cannot start, the thread and the temporary state go too."""
        self.thread.start()
        try:
            self.thread.run(self.core.start(), timeout=60)
        except BaseException:
            self.thread.stop()
            self._tempdir.cleanup()
            raise
        return self

    def stop(self) -> None:
        try:
            self.thread.run(self.core.stop(), timeout=60)
        finally:
            self.thread.stop()
            self._tempdir.cleanup()

    def __enter__(self) -> RunningLocalcore:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def client(self, service: str, **credentials: str) -> Any:
        """A boto3 client for one of localcore's services (the stack's admin key unless others are given)."""
        admin = self.core.admin
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.url,
            region_name=self.core.config.region,
            aws_access_key_id=credentials.get("access_key_id", admin.access_key_id),
            aws_secret_access_key=credentials.get("secret_key", admin.secret_access_key),
            aws_session_token=credentials.get("session_token"),
        )

    def device_client(
        self, device: Device, client_id: str | None = None, protocol: int = 5
    ) -> MqttTestClient:
        """A paho client (not connected yet) on the TLS listener with `device`'s certificate; the client id is
        the thing name unless given."""
        return MqttTestClient(
            self.mqtts_port,
            device.thing if client_id is None else client_id,
            protocol=protocol,
            host="localhost",
            tls_ca=str(self.endpoints["ca_file"]),
            tls_cert=device.tls_cert,
        )

    def publish(self, message: Message) -> None:
        """Publish into the broker as the iot-data endpoint does."""
        self.thread.run(self.core.broker.publish(message))

    def wait_rules_idle(self) -> None:
        """Until the rules engine has handled every message so far (not the async Lambdas it started)."""
        engine = self.core.engine
        if engine is not None:
            self.thread.run(engine.wait_idle())

    def wait_lambdas_idle(self, timeout: float = 60) -> None:
        """Until every asynchronous Lambda invocation so far has finished (retries included)."""
        runtime = self.core.runtime
        if runtime is not None:
            self.thread.run(runtime.wait_idle(), timeout=timeout)


@dataclass(frozen=True)
class Device:
    """A provisioned device: its thing, its certificate and the files a device holds."""

    thing: str
    certificate_id: str
    certificate_arn: str
    cert_file: Path
    key_file: Path

    @property
    def tls_cert(self) -> tuple[str, str]:
        """(certificate file, key file), as `MqttTestClient(tls_cert=...)` and paho's `tls_set` take them."""
        return str(self.cert_file), str(self.key_file)


def provision_device(
    iot: Any, folder: Path, policy: dict[str, Any], thing: str, active: bool = True
) -> Device:
    """CreateKeysAndCertificate + CreatePolicy (named `<thing>-policy`) + AttachPolicy + CreateThing +
    AttachThingPrincipal through the boto3 `iot` client, as a provisioning script does against AWS; the
    certificate and private key are written to `folder` (the key 0600)."""
    keys = iot.create_keys_and_certificate(setAsActive=active)
    iot.create_policy(policyName=f"{thing}-policy", policyDocument=json.dumps(policy))
    iot.attach_policy(policyName=f"{thing}-policy", target=keys["certificateArn"])
    iot.create_thing(thingName=thing)
    iot.attach_thing_principal(thingName=thing, principal=keys["certificateArn"])
    cert_file, key_file = folder / f"{thing}.pem.crt", folder / f"{thing}-private.pem.key"
    cert_file.write_text(keys["certificatePem"])
    key_file.write_text(keys["keyPair"]["PrivateKey"])
    key_file.chmod(0o600)
    return Device(thing, keys["certificateId"], keys["certificateArn"], cert_file, key_file)
