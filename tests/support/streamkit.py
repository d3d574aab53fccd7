"""Shared pieces of the end-to-end streaming tests: a localcore per module, paho users, event recorders."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from clients.chat_client import ChatClient
from clients.local_app import local_config
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import Event, decode_event
from localcore.functions import FunctionSettings
from localcore.lambda_runtime import LambdaRuntime
from localcore.testing import RunningLocalcore

WAIT_S = 30.0


@contextmanager
def running_stack(
    environment: Mapping[str, str], timeouts: Mapping[str, float] | None = None
) -> Iterator[RunningLocalcore]:
    """A whole localcore with the scripted (or another) LLM configured through the functions' environment."""
    functions = FunctionSettings(
        environment=dict(environment),
        retry_delays_seconds=(0.05, 0.05),
        timeout_overrides=dict(timeouts or {}),
    )
    with RunningLocalcore(local_config(functions=functions)) as running:
        yield running


def runtime(stack: RunningLocalcore) -> LambdaRuntime:
    """The stack's Lambda runtime (started with the stack)."""
    assert stack.core.runtime is not None
    return stack.core.runtime


def new_identity() -> str:
    return f"us-east-1:{uuid.uuid4()}"


@dataclass
class Recorder:
    """Every message a paho client receives on one filter, decoded where possible, waitable."""

    raw: list[tuple[str, bytes]] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._cond:
            self.raw.append((message.topic, bytes(message.payload)))
            self._cond.notify_all()

    def events(self, topic_suffix: str | None = None) -> list[Event]:
        with self._cond:
            chosen = [p for t, p in self.raw if topic_suffix is None or t.endswith(topic_suffix)]
        return [decode_event(p) for p in chosen]

    def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = WAIT_S) -> list[Event]:
        """Wait until `predicate(all events so far)` holds; fail the test with the events seen otherwise."""
        with self._cond:
            ok = self._cond.wait_for(lambda: predicate([decode_event(p) for _, p in self.raw]), timeout)
        events = self.events()
        assert ok, f"condition not met within {timeout}s; events: {events}"
        return events


@dataclass
class User:
    """One local-mode MQTT user (username = identity id) with a ChatClient and a raw recorder."""

    identity: str
    mqtt: paho.Client
    chat: ChatClient
    recorder: Recorder
    disconnects: list[int]
    disconnected: threading.Event


@contextmanager
def connected_user(stack: RunningLocalcore, identity: str | None = None, suffix: str = "") -> Iterator[User]:
    """Connect a paho MQTT 5 client for `identity` (client id `{identity}{suffix}`), subscribed to its answers."""
    identity = identity or new_identity()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=identity + suffix, protocol=paho.MQTTv5)
    client.username_pw_set(identity)
    connected = threading.Event()
    disconnected = threading.Event()
    disconnects: list[int] = []

    def on_connect(*args: Any) -> None:
        connected.set()

    def on_disconnect(client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        disconnects.append(int(reason.value) if hasattr(reason, "value") else int(reason))
        disconnected.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    recorder = Recorder()
    client.message_callback_add(f"chat/{identity}/response/#", recorder)
    client.connect("127.0.0.1", stack.mqtt_port)
    client.loop_start()
    try:
        assert connected.wait(10), "no CONNACK"
        chat = ChatClient(client, identity, idle_timeout=20)
        chat.subscribe()
        yield User(identity, client, chat, recorder, disconnects, disconnected)
    finally:
        client.disconnect()
        client.loop_stop()


def rule_event(identity: str, payload: bytes) -> dict[str, str]:
    """The event the prompt rule hands the Lambda: the raw payload base64-encoded, the identity from topic(2)."""
    return {"payload_base64": base64.b64encode(payload).decode("ascii"), "identity_id": identity}


def state_store(stack: RunningLocalcore) -> StateStore:
    """The Lambdas' state table, read through a real boto3 DynamoDB client."""
    client: Any = stack.client("dynamodb")
    return StateStore(client, "iotstream-state")


def stored_answer(stack: RunningLocalcore, identity: str, conversation: str) -> str:
    """What the prompt Lambda recorded as the model's answer (it records after publishing the `end`)."""
    stack.wait_lambdas_idle()
    turns = state_store(stack).load_history(identity, conversation, 10)
    assert turns, "no turn recorded"
    return turns[-1].assistant
