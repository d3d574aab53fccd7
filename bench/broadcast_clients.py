"""The broadcast benchmark's clients, all real paho-mqtt connections to localcore, driven by one `MqttPump`.

- `Chat`: one local-mode user (MQTT over TCP, username = identity id) asking back to back: the next prompt
  goes as soon as the previous answer's terminal event arrives (from paho's callback thread).
- `FeedDashboard`: a dashboard user (Cognito sign-in, `dashboard` group) with one connection per shard over
  SigV4 WebSockets, client ids `{identityId}-dash{k}`, connection k on `dashboard/streams/{k}` (docs/protocol.md).
- `FirehoseDashboard`: the old design, one connection of a dashboard user on `chat/+/response/+`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.mqtt_pump import MqttPump
from clients.session import Session
from iotstream_lambdas.streaming.status import dashboard_topic, decode_status
from iotstream_lambdas.streaming.wire import (
    End,
    Prompt,
    Start,
    decode_event,
    encode_prompt,
    event_text,
    is_terminal,
    prompt_topic,
    response_filter,
)

CONNECT_TIMEOUT_S = 30.0


def connect_subscribed(pump: MqttPump, client: paho.Client, host: str, port: int, topic_filter: str) -> None:
    """Connect through the pump, subscribe at QoS 1 and wait for a granted SUBACK."""
    granted = threading.Event()
    codes: list[int] = []

    def on_subscribe(client: paho.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        codes.extend(int(r.value) for r in reasons)
        granted.set()

    def on_connect(client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        events.append(f"CONNACK {reason}")
        client.subscribe(topic_filter, qos=1)

    def on_disconnect(client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        events.append(f"disconnected: {reason}")

    events: list[str] = []
    client.on_subscribe = on_subscribe
    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    pump.attach(client)
    client.connect(host, port)
    if not granted.wait(CONNECT_TIMEOUT_S) or codes != [1]:
        raise RuntimeError(f"could not subscribe to {topic_filter}: {codes or 'no SUBACK'} ({events})")


@dataclass
class Answer:
    """One prompt's answer as its chat saw it (monotonic times, plus wall-clock arrivals of text)."""

    sent: float
    sent_wall: float = 0.0
    """When the prompt was published, epoch seconds (to compare with the service's `start.ts`)."""
    first: float | None = None
    """The first event of any kind."""
    first_text: float | None = None
    """The first event carrying answer text."""
    ended: float | None = None
    ok: bool = False
    messages: int = 0
    longest_gap: float = 0.0
    """The longest wait for a next event (from the prompt on): what a client's idle timeout measures."""
    start_ts_ms: int | None = None
    """`ts` of the `start` event (epoch ms, taken by the publisher as the stream began)."""
    ttft_ms: float | None = None
    """`ttft_ms` of the `end` event's metrics (stream begun -> the model's first token)."""
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    """(epoch seconds received, text) of every event that carried text."""
    _last: float = 0.0


class Chat:
    """One user asking back to back while `asking` is set; one answer in flight at most."""

    def __init__(self, pump: MqttPump, port: int, text: str = "Tell me about MQTT.") -> None:
        self.identity = f"us-east-1:{uuid.uuid4()}"
        self.text = text
        self.answers: dict[str, Answer] = {}
        self.asking = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._current: str | None = None
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.identity, protocol=paho.MQTTv5)
        self._client.username_pw_set(self.identity)  # local mode: the iotstream-user policy applies
        self._client.on_message = self._on_message
        connect_subscribed(pump, self._client, "127.0.0.1", port, response_filter(self.identity))

    def ask(self, *, once: bool = False) -> str | None:
        """Publish the next prompt (a fresh rid, returned), unless asking has stopped; `once` asks even then
        (the chat does not ask again by itself when that answer ends)."""
        if not (once or self.asking.is_set()):
            return None
        rid = str(uuid.uuid4())
        self.expect(rid)
        with self._lock:
            self._current = rid
        self._client.publish(prompt_topic(self.identity), encode_prompt(Prompt(rid, self.text)), qos=1)
        return rid

    def expect(self, rid: str) -> Answer:
        """Record events of `rid` from now on (`ask` does it; a benchmark's own publishes too)."""
        with self._lock:
            answer = self.answers[rid] = Answer(sent=time.monotonic(), sent_wall=time.time())
            return answer

    def wait(self, rid: str, done: Callable[[Answer], bool], timeout: float) -> bool:
        """Wait until `done(answer of rid)` holds."""
        with self._changed:
            return self._changed.wait_for(lambda: done(self.answers[rid]), timeout)

    def give_up(self, older_than_s: float) -> None:
        """An answer in flight for too long is counted as lost and the chat moves on."""
        with self._lock:
            rid = self._current
            stuck = rid is not None and time.monotonic() - self.answers[rid].sent > older_than_s
            if stuck:
                self._current = None
        if stuck:
            self.ask()

    def take_finished(self) -> list[Answer]:
        """Remove and return the answers that ended (a long run keeps only what is in flight)."""
        with self._lock:
            done = [rid for rid, answer in self.answers.items() if answer.ended is not None]
            return [self.answers.pop(rid) for rid in done]

    @property
    def in_flight(self) -> bool:
        with self._lock:
            return self._current is not None

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        now, wall = time.monotonic(), time.time()
        event = decode_event(bytes(message.payload))
        text = event_text(event)
        with self._lock:
            answer = self.answers.get(event.rid)
            if answer is None:
                return
            if answer.first is None:
                answer.first = now
            answer.messages += 1
            answer.longest_gap = max(answer.longest_gap, now - (answer._last or answer.sent))
            answer._last = now
            if text:
                answer.arrivals.append((wall, text))
                if answer.first_text is None:
                    answer.first_text = now
            if isinstance(event, Start):
                answer.start_ts_ms = event.ts
            elif isinstance(event, End):
                ttft = event.metrics.get("ttft_ms")
                answer.ttft_ms = None if ttft is None else float(ttft)
            done = is_terminal(event) and event.rid == self._current
            if done:
                answer.ended, answer.ok = now, isinstance(event, End)
                self._current = None
            self._changed.notify_all()
        if done:
            self.ask()

    def close(self) -> None:
        self._client.disconnect()


@dataclass
class FeedDashboard:
    """One dashboard: `shards` connections; `received` holds every (rid, n) seen, `finals` the final rids."""

    session: Session
    shards: int
    received: set[tuple[str, int]] = field(default_factory=set)
    finals: set[str] = field(default_factory=set)
    clients: list[paho.Client] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def connect(self, pump: MqttPump) -> FeedDashboard:
        config = self.session.config
        for shard in range(self.shards):
            client = self.session.paho_client(f"dash{shard}")
            client.on_message = self._on_message
            connect_subscribed(pump, client, config.mqtt_host, config.mqtt_port, dashboard_topic(shard))
            self.clients.append(client)
        return self

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        status = decode_status(bytes(message.payload))
        with self._cond:
            self.received.add((status.rid, status.n))
            if status.final:
                self.finals.add(status.rid)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[FeedDashboard], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def reset(self) -> None:
        with self._cond:
            self.received.clear()
            self.finals.clear()

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()


class FirehoseDashboard:
    """The old design: one connection subscribed to every user's response stream."""

    def __init__(self, pump: MqttPump, session: Session) -> None:
        self.received = 0
        self._lock = threading.Lock()
        self._client = session.paho_client("firehose")
        self._client.on_message = self._on_message
        config = session.config
        connect_subscribed(pump, self._client, config.mqtt_host, config.mqtt_port, "chat/+/response/+")

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.received += 1

    def take(self) -> int:
        """Messages received since the last call."""
        with self._lock:
            received, self.received = self.received, 0
            return received

    def close(self) -> None:
        self._client.disconnect()
