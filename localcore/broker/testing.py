"""Test helpers: a broker on its own event loop in a background thread, and a synchronous paho client.

    with RunningBroker(authenticator=..., limits=...) as running:
        client = MqttTestClient(running.mqtt_port, "alice").connect()
        client.subscribe("a/b")
        ...

Everything waits on events with timeouts; nothing sleeps.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from iot_policies.evaluator import Decision
from localcore.aio.loop_thread import LoopThread
from localcore.broker.authorization import (
    Authenticator,
    Authority,
    ConnectRefused,
    ConnectRequest,
    HandshakeVerifier,
)
from localcore.broker.broker import Broker
from localcore.broker.limits import BrokerLimits
from localcore.broker.message import Message
from localcore.broker.server import BrokerServer, ServerConfig

T = TypeVar("T")
DEFAULT_TIMEOUT = 5.0


@dataclass
class RuleAuthority:
    """Allows everything except the (action, resource) pairs in `deny`."""

    principal_id: str
    deny: set[tuple[str, str]]

    def decide(self, action: str, resource: str) -> Decision:
        denied = (action, resource) in self.deny
        reason = f"test denies {action} on {resource}" if denied else "test allows"
        return Decision(allowed=not denied, action=action, resource=resource, reason=reason)


@dataclass
class RuleAuthenticator:
    """A test authenticator: username "bad" is refused (0x86); principal = username, else client id.

    `deny` applies to everyone, `deny_for[principal]` to one principal. Requests are recorded.
    """

    deny: set[tuple[str, str]] = field(default_factory=set)
    deny_for: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    requests: list[ConnectRequest] = field(default_factory=list)

    def authenticate(self, request: ConnectRequest) -> Authority:
        self.requests.append(request)
        if request.username == "bad":
            raise ConnectRefused(0x86, "bad username or password")
        principal = request.username or request.client_id
        return RuleAuthority(principal, self.deny | self.deny_for.get(principal, set()))


class RunningBroker:
    """A BrokerServer (TCP + WebSocket, optionally TLS) on 127.0.0.1 with port 0, in a background thread."""

    def __init__(
        self,
        authenticator: Authenticator | None = None,
        limits: BrokerLimits | None = None,
        handshake_verifier: HandshakeVerifier | None = None,
        tls: bool = False,
        state_dir: Path | None = None,
    ) -> None:
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None and tls:
            self._tempdir = tempfile.TemporaryDirectory(prefix="localcore-")
            state_dir = Path(self._tempdir.name)
        config = ServerConfig(
            host="127.0.0.1",
            mqtt_port=0,
            mqtts_port=0 if tls else None,
            ws_port=0,
            state_dir=state_dir or Path(".localcore"),
            limits=limits or BrokerLimits(),
        )
        self.server = BrokerServer(config, authenticator, handshake_verifier)
        self._loop_thread = LoopThread("localcore-broker")
        self.loop = self._loop_thread.loop

    @property
    def broker(self) -> Broker:
        return self.server.broker

    @property
    def mqtt_port(self) -> int:
        return self.server.mqtt_port

    @property
    def ws_port(self) -> int:
        return self.server.ws_port

    @property
    def mqtts_port(self) -> int:
        return self.server.mqtts_port

    def start(self) -> RunningBroker:
        self._loop_thread.start()
        self.run(self.server.start())
        return self

    def stop(self) -> None:
        try:
            self.run(self.server.stop(), timeout=15)
        finally:
            self._loop_thread.stop()
            if self._tempdir is not None:
                self._tempdir.cleanup()

    def __enter__(self) -> RunningBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT) -> T:
        """Run a coroutine on the broker's loop and wait for its result."""
        return self._loop_thread.run(coroutine, timeout)

    def call(self, function: Callable[[], T], timeout: float = DEFAULT_TIMEOUT) -> T:
        """Run a plain function on the broker's loop (broker state is not thread-safe)."""
        return self._loop_thread.call(function, timeout)

    def publish(self, message: Message) -> None:
        """The internal publish (`Broker.publish`), as the iot-data endpoint and rules engine use it."""
        self.run(self.server.broker.publish(message))

    def record(self, predicate: Callable[[Message], bool] | None = None) -> MessageRecorder:
        """Record every message the broker accepts (what `add_listener` sees)."""
        recorder = MessageRecorder(predicate)
        self.call(lambda: self.server.broker.add_listener(recorder))
        return recorder


class MessageRecorder:
    """A broker listener that lets a test thread wait for messages."""

    def __init__(self, predicate: Callable[[Message], bool] | None = None) -> None:
        self.predicate = predicate
        self.messages: list[Message] = []
        self._condition = threading.Condition()

    def __call__(self, message: Message) -> None:
        if self.predicate is None or self.predicate(message):
            with self._condition:
                self.messages.append(message)
                self._condition.notify_all()

    def wait_for(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[Message]:
        with self._condition:
            if not self._condition.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"expected {count} messages, got {len(self.messages)}")
            return list(self.messages)


@dataclass
class ConnectResult:
    reason_code: int
    session_present: bool
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: dict[str, Any]


class MqttTestClient:
    """A paho-mqtt client (MQTT 3.1.1 or 5) with blocking, event-based helpers."""

    def __init__(
        self,
        port: int,
        client_id: str = "",
        protocol: int = 5,
        clean: bool = True,
        username: str | None = None,
        keepalive: int = 60,
        session_expiry: int | None = None,
        transport: Literal["tcp", "websockets"] = "tcp",
        host: str = "127.0.0.1",
        tls_ca: str | None = None,
    ) -> None:
        self.port = port
        self.host = host
        self.protocol = protocol
        self.clean = clean
        self.keepalive = keepalive
        self.session_expiry = session_expiry
        version = paho.MQTTv5 if protocol == 5 else paho.MQTTv311
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=version,
            clean_session=None if protocol == 5 else clean,
            transport=transport,
            reconnect_on_failure=False,
        )
        if transport == "websockets":
            self.client.ws_set_options(path="/mqtt")
        if tls_ca is not None:
            self.client.tls_set(ca_certs=tls_ca)
        if username is not None:
            self.client.username_pw_set(username)
        self.received: list[Received] = []
        self.connack: ConnectResult | None = None
        self.disconnect_code: int | None = None
        self._condition = threading.Condition()
        self._acks: dict[int, Any] = {}
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        client = self.client
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_ack
        client.on_unsubscribe = self._on_ack
        client.on_publish = self._on_publish

    # callbacks (paho's network thread)
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        props = properties.json() if properties is not None and hasattr(properties, "json") else {}
        self.connack = ConnectResult(reason.value, bool(flags.session_present), props)
        self._connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.disconnect_code = reason.value
        self._disconnected.set()
        self._connected.set()  # a refused CONNECT ends here without on_connect on some paths
        with self._condition:
            self._condition.notify_all()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        props = message.properties.json() if getattr(message, "properties", None) is not None else {}
        with self._condition:
            self.received.append(Received(message.topic, message.payload, message.qos, message.retain, props))
            self._condition.notify_all()

    def _on_ack(self, client: Any, userdata: Any, mid: int, codes: Any, properties: Any) -> None:
        with self._condition:
            self._acks[mid] = [code.value for code in codes]
            self._condition.notify_all()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._condition:
            self._acks[mid] = reason.value
            self._condition.notify_all()

    # blocking helpers
    def connect(
        self, timeout: float = DEFAULT_TIMEOUT, expect_success: bool = True, **properties: Any
    ) -> MqttTestClient:
        props = None
        if self.protocol == 5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            if self.session_expiry is not None:
                props.SessionExpiryInterval = self.session_expiry
            for name, value in properties.items():
                setattr(props, name, value)
        kwargs: dict[str, Any] = {"keepalive": self.keepalive, "properties": props}
        if self.protocol == 5:
            kwargs["clean_start"] = self.clean
        self.client.connect(self.host, self.port, **kwargs)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            raise TimeoutError("no CONNACK")
        if expect_success and (self.connack is None or self.connack.reason_code != 0):
            raise AssertionError(f"connect failed: {self.connack} / disconnect {self.disconnect_code}")
        return self

    def _wait_ack(self, mid: int, timeout: float) -> Any:
        with self._condition:
            ok = self._condition.wait_for(lambda: mid in self._acks or self._disconnected.is_set(), timeout)
            if not ok:
                raise TimeoutError(f"no ack for message id {mid}")
            if mid not in self._acks:
                raise ConnectionError(f"disconnected (code {self.disconnect_code}) before the ack")
            return self._acks.pop(mid)

    def subscribe(self, filters: str | Iterable[tuple[str, int]], qos: int = 1, **options: Any) -> list[int]:
        """Subscribe and wait for SUBACK; returns the granted QoS / reason codes."""
        if isinstance(filters, str):
            filters = [(filters, qos)]
        if self.protocol == 5:
            pairs = [(text, SubscribeOptions(qos=level, **options)) for text, level in filters]
            _, mid = self.client.subscribe(pairs)
        else:
            _, mid = self.client.subscribe(list(filters))
        assert mid is not None
        codes: list[int] = self._wait_ack(mid, DEFAULT_TIMEOUT)
        return codes

    def unsubscribe(self, *filters: str) -> list[int]:
        _, mid = self.client.unsubscribe(list(filters))
        assert mid is not None
        codes: list[int] = self._wait_ack(mid, DEFAULT_TIMEOUT)
        return codes

    def publish(
        self, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False, **properties: Any
    ) -> int | None:
        """Publish; for QoS 1 wait for PUBACK and return its reason code."""
        props = None
        if self.protocol == 5 and properties:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            for name, value in properties.items():
                setattr(props, name, value)
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if qos == 0:
            return None
        code: int = self._wait_ack(info.mid, DEFAULT_TIMEOUT)
        return code

    def expect(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[Received]:
        """Wait until at least `count` messages arrived; return all received so far."""
        with self._condition:
            if not self._condition.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(f"expected {count} messages, got {len(self.received)}")
            return list(self.received)

    def wait_until(
        self, predicate: Callable[[list[Received]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> list[Received]:
        """Wait until `predicate(every message received so far)` holds; return those messages."""
        with self._condition:
            if not self._condition.wait_for(lambda: predicate(self.received), timeout):
                raise TimeoutError(f"condition not met after {len(self.received)} messages")
            return list(self.received)

    def wait_disconnected(self, timeout: float = DEFAULT_TIMEOUT) -> int | None:
        if not self._disconnected.wait(timeout):
            raise TimeoutError("still connected")
        return self.disconnect_code

    @property
    def is_disconnected(self) -> bool:
        return self._disconnected.is_set()

    def disconnect(self) -> None:
        if not self._disconnected.is_set():
            self.client.disconnect()
            self._disconnected.wait(DEFAULT_TIMEOUT)
        self.client.loop_stop()

    def __enter__(self) -> MqttTestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()
