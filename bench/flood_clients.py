"""The flood benchmark's actors, all real sockets against localcore: the victim, the prompt flood, the idle
sockets, and a sampler of localcore's memory.

- `Victim`: a local-mode user (MQTT 5 over TCP, username = identity id) asking one question at a time; it
  measures each answer's time to first token (prompt published -> first event carrying text).
- `PromptFlood`: another user's connections, each publishing prompts at AWS IoT's per-connection limit
  (100 publishes/s) from one thread.
- `IdleSockets`: TCP connections that never send a byte; one the server closes is opened again within a second,
  so the attacker keeps holding as many as it can.
- `MemorySampler`: the resident memory of localcore's process, and of its Lambda workers, twice a second.

The MQTT clients go through one `MqttPump` (epoll): with thousands of sockets open, paho's own `select()` loop
cannot watch descriptors above 1023.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.broadcast_clients import connect_subscribed
from bench.mqtt_pump import MqttPump
from bench.proc_usage import descendants, memory_kb
from iotstream_lambdas.streaming.wire import (
    Prompt,
    decode_event,
    encode_prompt,
    event_text,
    is_terminal,
    prompt_topic,
    response_filter,
)

REOPEN_INTERVAL_S = 1.0


def _local_user(suffix: str = "") -> tuple[str, paho.Client]:
    identity = f"us-east-1:{uuid.uuid4()}"
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=identity + suffix, protocol=paho.MQTTv5)
    client.username_pw_set(identity)  # local mode: the iotstream-user policy applies to this identity
    return identity, client


@dataclass
class Asked:
    ttft_s: float | None  # None: no text arrived in time
    ok: bool  # the answer ended with `end`


class Victim:
    """One user, one question at a time."""

    def __init__(self, pump: MqttPump, port: int) -> None:
        self.identity, self._client = _local_user()
        self._client.on_message = self._on_message
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._rid = ""
        self._first: float | None = None
        self._ok = False
        connect_subscribed(pump, self._client, "127.0.0.1", port, response_filter(self.identity))

    def ask(self, timeout: float) -> Asked:
        rid = str(uuid.uuid4())
        with self._lock:
            self._rid, self._first, self._ok = rid, None, False
            self._done.clear()
        sent = time.monotonic()
        self._client.publish(prompt_topic(self.identity), encode_prompt(Prompt(rid, "Are you there?")), qos=1)
        self._done.wait(timeout)
        with self._lock:
            first = self._first
            return Asked(None if first is None else first - sent, self._ok)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        now = time.monotonic()
        event = decode_event(bytes(message.payload))
        with self._lock:
            if event.rid != self._rid:
                return
            if self._first is None and event_text(event):
                self._first = now
            if is_terminal(event):
                self._ok = type(event).__name__ == "End"
                self._done.set()

    def close(self) -> None:
        self._client.disconnect()


class PromptFlood:
    """`connections` connections of one user, each publishing `rate` prompts a second (QoS 0) until stopped."""

    def __init__(self, pump: MqttPump, port: int, connections: int, rate: int = 100) -> None:
        self.identity = f"us-east-1:{uuid.uuid4()}"
        self.rate = rate
        self.sent = 0
        self._clients: list[paho.Client] = []
        for index in range(connections):
            client = paho.Client(
                CallbackAPIVersion.VERSION2, client_id=f"{self.identity}-flood{index}", protocol=paho.MQTTv5
            )
            client.username_pw_set(self.identity)
            # subscribed to its own answers, as a chat client is (they are mostly `rate_limited` errors)
            connect_subscribed(pump, client, "127.0.0.1", port, response_filter(self.identity))
            self._clients.append(client)
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prompt-flood", daemon=True)

    def start(self) -> None:
        self._running.set()
        self._thread.start()

    def _run(self) -> None:
        topic = prompt_topic(self.identity)
        tick = 1.0 / self.rate
        next_at = time.monotonic()
        while self._running.is_set():
            for client in self._clients:
                client.publish(topic, encode_prompt(Prompt(str(uuid.uuid4()), "flood")), qos=0)
                self.sent += 1
            next_at += tick
            time.sleep(max(0.0, next_at - time.monotonic()))  # the flood's own pace: AWS's 100/s

    def stop(self) -> None:
        self._running.clear()
        self._thread.join(10)
        for client in self._clients:
            client.disconnect()


@dataclass
class IdleSockets:
    """`per_target` idle TCP connections to each (host, port), held until `stop()`."""

    targets: list[tuple[str, int]]
    per_target: int
    opened: int = 0
    reopened: int = 0
    _selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    _running: threading.Event = field(default_factory=threading.Event)
    _closed: list[tuple[str, int]] = field(default_factory=list)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._running.set()
        for target in self.targets:
            for _ in range(self.per_target):
                self._open(target)
        self._thread = threading.Thread(target=self._run, name="idle-sockets", daemon=True)
        self._thread.start()

    @property
    def open_now(self) -> int:
        return len(self._selector.get_map())

    def _open(self, target: tuple[str, int]) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(target)  # in progress: the attacker does not wait for the accept
        self._selector.register(sock, selectors.EVENT_READ, target)
        self.opened += 1

    def _run(self) -> None:
        next_reopen = time.monotonic() + REOPEN_INTERVAL_S
        while self._running.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                with contextlib.suppress(OSError):
                    if sock.recv(1024):
                        continue  # the server said something (an HTTP 408/503): still open for now
                self._selector.unregister(sock)
                sock.close()
                self._closed.append(key.data)
            if time.monotonic() >= next_reopen:
                next_reopen = time.monotonic() + REOPEN_INTERVAL_S
                closed, self._closed = self._closed, []
                for target in closed:
                    self._open(target)
                    self.reopened += 1

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(10)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()


@dataclass
class Sample:
    seconds: float
    phase: str
    stack_mb: float  # localcore's own process
    workers_mb: float  # its Lambda workers (child processes)


class MemorySampler:
    """RSS of process `pid` and its descendants every `interval` seconds, labelled with the current phase."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.phase = "start"
        self.samples: list[Sample] = []
        self._started = time.monotonic()
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory", daemon=True)

    def start(self) -> MemorySampler:
        self._running.set()
        self._thread.start()
        return self

    def sample(self) -> Sample:
        workers = sum(memory_kb(child)[0] for child in descendants(self.pid))
        sample = Sample(
            round(time.monotonic() - self._started, 2),
            self.phase,
            memory_kb(self.pid)[0] / 1024,
            workers / 1024,
        )
        self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while self._running.is_set():
            self.sample()
            time.sleep(self.interval)  # a sampler's clock

    def stop(self) -> None:
        self._running.clear()
        self._thread.join(5)
