"""Shared by the session and security suites: a scripted-LLM stack, users made through the real sign-up flow,
an awsiotsdk (awscrt) client that records streams, paho over a presigned URL, and authz log parsing."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import awscrt.mqtt
import pytest

from clients.config import ClientConfig
from clients.local_app import local_config
from clients.presign import PresignedWebSocket
from clients.session import Session, sign_in, sign_up
from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.wire import prompt_topic, response_filter
from localcore.broker.testing import MqttTestClient
from localcore.functions import FunctionSettings
from localcore.lambda_runtime import ConcurrencyConfig
from localcore.testing import RunningLocalcore

SCRIPT = "Each identity streams on its own topics, and nobody else can read them."
PASSWORD = "Passw0rd!-local"
TIMEOUT = 20.0
AUTHZ_LOGGER = "localcore.broker.authz"


def stack(concurrency: ConcurrencyConfig | None = None, **overrides: Any) -> Iterator[RunningLocalcore]:
    """A running stack with the scripted LLM (fast, deterministic) and fast Lambda retries."""
    functions = FunctionSettings(
        environment={
            "LLM_PROVIDER": "scripted",
            "SCRIPTED_TEXT": SCRIPT,
            "SCRIPTED_TOKENS_PER_S": "2000",
            # One victim streams after every attack of the package: a prompt rate limit would refuse it.
            # The limits themselves are tested in tests/functional/streaming/test_stream_limits.py.
            "PROMPTS_PER_MINUTE": "0",
            "PROMPTS_PER_DAY": "0",
        },
        retry_delays_seconds=(0.05, 0.05),
        concurrency=concurrency or ConcurrencyConfig(),
    )
    with RunningLocalcore(local_config(functions=functions, **overrides)) as running:
        yield running


class Users:
    """Creates users through SignUp (+ AdminConfirmSignUp when the pool does not auto-confirm) and signs them in."""

    def __init__(self, core: RunningLocalcore, config: ClientConfig) -> None:
        self.core = core
        self.config = config
        self.admin = core.client("cognito-idp")

    def register(self, prefix: str = "user", *, dashboard: bool = False, confirm: bool = True) -> str:
        username = f"{prefix}-{uuid.uuid4().hex[:10]}"
        result = sign_up(self.config, username, PASSWORD, f"{username}@example.com")
        if confirm and not result.confirmed:
            self.admin.admin_confirm_sign_up(UserPoolId=self.config.user_pool_id, Username=username)
        if dashboard:
            self.admin.admin_add_user_to_group(
                UserPoolId=self.config.user_pool_id, Username=username, GroupName="dashboard"
            )
        return username

    def create(self, prefix: str = "user", *, dashboard: bool = False, attach: bool = True) -> Session:
        return sign_in(self.config, self.register(prefix, dashboard=dashboard), PASSWORD, attach=attach)


def new_prompt(text: str = "hello") -> tuple[str, bytes]:
    rid = str(uuid.uuid4())
    return rid, json.dumps({"v": 1, "rid": rid, "text": text}).encode()


@dataclass
class CrtClient:
    """An awsiotsdk (awscrt) MQTT 3.1.1 connection over SigV4 WebSockets that records every message."""

    connection: Any
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    interrupted: threading.Event = field(default_factory=threading.Event)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def open(cls, session: Session, suffix: str | None = None) -> CrtClient:
        holder: list[CrtClient] = []
        connection = session.mqtt_connection(
            suffix, on_connection_interrupted=lambda **kw: holder[0].interrupted.set()
        )
        client = cls(connection)
        holder.append(client)
        connection.connect().result(TIMEOUT)
        return client

    def _record(self, topic: str, payload: bytes, **kwargs: Any) -> None:
        with self._cond:
            self.messages.append((topic, payload))
            self._cond.notify_all()

    def subscribe(self, topic_filter: str) -> Any:
        """SUBSCRIBE at QoS 1; returns the granted QoS (None when the broker refused the filter)."""
        future, _ = self.connection.subscribe(
            topic_filter, awscrt.mqtt.QoS.AT_LEAST_ONCE, callback=self._record
        )
        return future.result(TIMEOUT)["qos"]

    def publish(self, topic: str, payload: bytes) -> None:
        future, _ = self.connection.publish(topic, payload, awscrt.mqtt.QoS.AT_LEAST_ONCE)
        future.result(TIMEOUT)

    def prompt(self, session: Session, text: str = "hello") -> str:
        rid, payload = new_prompt(text)
        self.publish(prompt_topic(session.identity_id), payload)
        return rid

    def stream(self, rid: str, timeout: float = TIMEOUT) -> StreamAssembler:
        """Wait until the response stream `rid` has its terminal event; return it reassembled."""
        assembler = StreamAssembler(rid=rid)
        seen = [0]

        def complete() -> bool:
            for topic, payload in self.messages[seen[0] :]:
                if topic.endswith("/" + rid):
                    assembler.feed_payload(payload, 0.0)
            seen[0] = len(self.messages)
            return assembler.done

        with self._cond:
            if not self._cond.wait_for(complete, timeout):
                raise TimeoutError(f"stream {rid} incomplete after {timeout}s: {assembler.events}")
        return assembler

    def wait_started(self, rid: str, timeout: float = TIMEOUT) -> None:
        """Until the first message of stream `rid` has arrived."""
        with self._cond:
            if not self._cond.wait_for(lambda: any(t.endswith("/" + rid) for t, _ in self.messages), timeout):
                raise TimeoutError(f"stream {rid} did not start within {timeout}s")

    def rids(self) -> set[str]:
        with self._cond:
            return {topic.rsplit("/", 1)[-1] for topic, _ in self.messages}

    def topics(self) -> set[str]:
        with self._cond:
            return {topic for topic, _ in self.messages}

    def close(self) -> None:
        self.connection.disconnect().result(TIMEOUT)


def stream_text(client: CrtClient, rid: str) -> str:
    return client.stream(rid).text


def paho_ws(
    session: Session,
    *,
    client_id: str | None = None,
    protocol: int = 5,
    presigned: PresignedWebSocket | None = None,
) -> MqttTestClient:
    """paho over WebSockets on the session's presigned `/mqtt` URL, with the test client's blocking helpers."""
    config = session.config
    signed = presigned or session.presigned_url()
    client = MqttTestClient(
        config.mqtt_port,
        client_id=client_id if client_id is not None else session.client_id("paho"),
        protocol=protocol,
        transport="websockets",
        host=config.mqtt_host,
    )
    client.client.ws_set_options(path=signed.path)
    return client


def authz_events(caplog: pytest.LogCaptureFixture, **match: Any) -> list[dict[str, Any]]:
    """The JSON denial lines on `localcore.broker.authz` whose fields equal `match`."""
    events = []
    for record in caplog.records:
        if record.name != AUTHZ_LOGGER:
            continue
        event = json.loads(record.getMessage())
        if all(event.get(key) == value for key, value in match.items()):
            events.append(event)
    return events


__all__ = [
    "PASSWORD",
    "SCRIPT",
    "CrtClient",
    "Users",
    "authz_events",
    "new_prompt",
    "paho_ws",
    "response_filter",
    "stack",
    "stream_text",
]
