"""Event lines: one small JSON object per thing that happened, kept in a ring and handed to followers.

    {"seq": 41, "time": 1767268800.123, "kind": "PUBLISH", "level": "info",
     "topic": "greenhouse/g1/readings", "client_id": "g1", "qos": 1, "retain": false, "bytes": 35, ...}

Kinds: CONNECT, CONNECT_REFUSED, DISCONNECT, SUBSCRIBE, UNSUBSCRIBE, PUBLISH, DENIED, RULE (WHERE matched),
ACTION, ACTION_FAILED, ERROR_ACTION, INVOKE, FUNCTION_LOG, FUNCTION_ERROR, REPORT. `format_event` turns one into
the line `iotstream logs` and `iotstream up --verbose` print.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from localcore.broker.message import Message

Level = Literal["info", "warning"]
FOLLOWER_BACKLOG = 10_000
"""Events a follower may lag behind before the newest are dropped for it (and counted in a DROPPED line)."""


PREVIEW_BYTES = 200


@dataclass(frozen=True, slots=True)
class Event:
    """One event; a PUBLISH keeps its message and is turned into fields only when read (the broker's hot path
    pays for one small object per message, not for formatting it)."""

    seq: int
    time: float
    kind: str
    level: Level
    fields: Mapping[str, Any] | Message = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        fields = publish_fields(self.fields) if isinstance(self.fields, Message) else self.fields
        return {"seq": self.seq, "time": self.time, "kind": self.kind, "level": self.level, **fields}


def publish_fields(message: Message) -> dict[str, Any]:
    """A PUBLISH line's fields: topic, who published (client id, else the principal: a rule, iot-data's
    caller), QoS, retain, size and the payload's start as text."""
    publisher = message.publisher
    return {
        "topic": message.topic,
        "client_id": publisher.client_id,
        "principal": publisher.principal if publisher.client_id is None else None,
        "qos": message.qos,
        "retain": message.retain or None,
        "bytes": len(message.payload),
        "payload": preview(message.payload),
    }


def preview(payload: bytes) -> str:
    """The payload as text, cut at PREVIEW_BYTES; binary as `<N bytes>`."""
    try:
        text = payload[:PREVIEW_BYTES].decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(payload)} bytes>"
    return text + ("…" if len(payload) > PREVIEW_BYTES else "")


class Follower:
    """One live reader of the event log (an `iotstream logs -f`): an async iterator of the events after it began."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self._pending: deque[Event | None] = deque()
        self._wake = asyncio.Event()
        self.dropped = 0

    def put(self, event: Event | None) -> None:
        """From any thread; None ends the iteration. The reader is woken once per batch, not per event."""
        if event is not None and len(self._pending) >= FOLLOWER_BACKLOG:
            self.dropped += 1
            return
        self._pending.append(event)
        if self._wake.is_set():
            return
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody reads any more
                self._loop.call_soon_threadsafe(self._wake.set)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                event = self._pending.popleft()
                if event is None:
                    return
                yield event


class EventLog:
    """The last `capacity` events, the followers reading new ones live, and synchronous listeners."""

    def __init__(self, capacity: int = 2000, clock: Callable[[], float] = time.time) -> None:
        self._recent: deque[Event] = deque(maxlen=capacity)
        self._seq = itertools.count(1)  # next() and deque.append are atomic: emit takes no lock
        self._lock = threading.Lock()  # for the followers
        self._followers: tuple[Follower, ...] = ()
        self._clock = clock
        self.listeners: list[Callable[[Event], None]] = []
        """Called with each event as it is recorded (`iotstream up --verbose` prints them); must not block."""

    def emit(self, kind: str, level: Level = "info", **fields: Any) -> Event:
        return self._add(Event(next(self._seq), self._clock(), kind, level, fields))

    def published(self, message: Message) -> Event:
        """A PUBLISH line for an accepted message (its fields are made when the line is read)."""
        return self._add(Event(next(self._seq), message.received_at, "PUBLISH", "info", message))

    def _add(self, event: Event) -> Event:
        self._recent.append(event)
        for follower in self._followers:
            follower.put(event)
        for listener in self.listeners:
            listener(event)
        return event

    def recent(self, count: int | None = None, kinds: frozenset[str] | None = None) -> list[Event]:
        events = [e for e in list(self._recent) if kinds is None or e.kind in kinds]
        return events if count is None else events[-count:] if count else []

    @contextlib.contextmanager
    def follow(self) -> Iterator[Follower]:
        """`with log.follow() as follower: async for event in follower:` — the events from now on, until
        `close()` (the stack stops) or the block ends."""
        follower = Follower(asyncio.get_running_loop())
        with self._lock:
            self._followers = (*self._followers, follower)
        try:
            yield follower
        finally:
            with self._lock:
                self._followers = tuple(f for f in self._followers if f is not follower)

    def close(self) -> None:
        """End every follower (their streams finish)."""
        with self._lock:
            followers, self._followers = self._followers, ()
        for follower in followers:
            follower.put(None)


def format_event(event: Mapping[str, Any]) -> str:
    """`12:00:01.123 PUBLISH   topic=greenhouse/g1/readings client_id=g1 qos=1 bytes=35 payload={...}`."""
    stamp = datetime.fromtimestamp(float(event.get("time", 0))).strftime("%H:%M:%S.%f")[:-3]
    skip = {"seq", "time", "kind", "level", "line"}
    parts = [f"{key}={_show(value)}" for key, value in event.items() if key not in skip and value is not None]
    if "line" in event:
        parts.append(f"| {event['line']}")
    return f"{stamp} {event.get('kind', '?'):<15} {' '.join(parts)}".rstrip()


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
