"""The whole local stack in a background thread, on 127.0.0.1 with free ports: for tests and tools."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

from localcore.aio.loop_thread import LoopThread
from localcore.app import Localcore, LocalcoreConfig
from localcore.broker.message import Message


def free_port_config(**overrides: Any) -> LocalcoreConfig:
    """A config with every port free (0) and state in a temporary folder."""
    base = LocalcoreConfig(mqtt_port=0, mqtts_port=None, ws_port=0, http_port=0)
    return dataclasses.replace(base, **overrides)


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
