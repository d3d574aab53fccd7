"""Sessions: subscriptions, in-flight QoS 1 deliveries and the queue of a client, online or not.

AWS keeps, for persistent sessions, the subscriptions plus unacknowledged and new QoS 1 messages while the
client is offline; QoS 0 is never queued (mqtt.html "Using MQTT persistent sessions"). At most 100 QoS 1
deliveries are in flight per client; more wait in the session queue (bounded, then dropped with a log line).
They also wait while the connection has no room (`Outbound.has_room`: a client reading slowly), and flow
again from `drain()`, which the connection calls once its queued bytes were written.
"""

from __future__ import annotations

import logging
import struct
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from localcore.broker import codec
from localcore.broker.enforcement import Enforcer
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.message import NO_PROPERTIES, Message
from localcore.broker.properties import publish_properties
from localcore.broker.retained import expired
from localcore.broker.subscriptions import Subscription

log = logging.getLogger("localcore.broker.sessions")

EncodeCache = dict[tuple[int, int, bool], tuple[bytes, bytes]]


class Outbound(Protocol):
    """What a session needs from the connection attached to it (and the broker, to close it on takeover)."""

    protocol_level: int
    client_max_packet_size: int | None

    def allow_rate(self) -> bool: ...

    def has_room(self, size: int) -> bool:
        """Whether a delivery of `size` bytes may be queued for the client now."""
        ...

    def send(self, data: bytes) -> None: ...

    def close(self, reason: DisconnectReason, code: int | None = None) -> None: ...


class Cancellable(Protocol):
    """A pending timer (the broker's session-expiry `asyncio.TimerHandle`); sessions themselves do no I/O."""

    def cancel(self) -> None: ...


def encode_delivery(message: Message, level: int, qos: int, retain: bool) -> tuple[bytes, bytes]:
    """PUBLISH bytes around the packet id; MQTT 5 properties are dropped for 3.1.1 receivers."""
    props: codec.Properties = {}
    if level == codec.MQTT5 and message.properties is not NO_PROPERTIES:
        props = publish_properties(message.properties, time.time(), message.received_at)
    return codec.encode_publish_parts(level, message.topic, message.payload, qos, retain, props)


@dataclass(slots=True)
class _InFlight:
    message: Message
    retain: bool
    data: bytes


class Session:
    """One client id's state. `connection` is None while the client is offline."""

    def __init__(self, client_id: str, protocol_level: int, expiry: int, max_queued: int) -> None:
        self.client_id = client_id
        self.protocol_level = protocol_level
        self.expiry = expiry  # seconds the session outlives its connection; 0 = ends with it
        self.subscriptions: dict[str, Subscription[Session]] = {}
        self.connection: Outbound | None = None
        self.enforcer: Enforcer | None = None
        self.window = 100
        self.inflight: dict[int, _InFlight] = {}
        self.queue: deque[tuple[Message, bool]] = deque()
        self.resend: deque[int] = deque()  # in-flight packet ids to send again (DUP=1) to a new connection
        self.max_queued = max_queued
        self.expiry_handle: Cancellable | None = None
        self.dropped = 0
        self._packet_id = 0

    # ------------------------------------------------------------------ delivery

    def deliver(self, message: Message, qos: int, retain: bool, cache: EncodeCache | None = None) -> None:
        """Deliver (or queue) one message, after the iot:Receive check on its concrete topic."""
        enforcer = self.enforcer
        if enforcer is not None and not enforcer.allowed("iot:Receive", message.topic):
            return
        connection = self.connection
        if connection is None:
            if qos and self.expiry:
                self._enqueue(message, retain)
            return
        if not connection.allow_rate():
            self._drop("publish rate limit", message)
            return
        if qos == 0:
            head, tail = self._encoded(message, connection.protocol_level, 0, retain, cache)
            if not connection.has_room(len(head) + len(tail)):
                self._drop("the client reads too slowly (QoS 0)", message)
                return
            self._send(connection, head + tail)
        else:
            waiting = self.queue or self.resend or len(self.inflight) >= self.window
            if waiting or not self._send_qos1(connection, message, retain, cache):
                self._enqueue(message, retain)  # behind what waits already, or until there is room

    def _encoded(
        self, message: Message, level: int, qos: int, retain: bool, cache: EncodeCache | None
    ) -> tuple[bytes, bytes]:
        if cache is None:
            return encode_delivery(message, level, qos, retain)
        key = (level, qos, retain)
        parts = cache.get(key)
        if parts is None:
            parts = cache[key] = encode_delivery(message, level, qos, retain)
        return parts

    def _send(self, connection: Outbound, data: bytes) -> bool:
        limit = connection.client_max_packet_size
        if limit is not None and len(data) > limit:
            return False  # MQTT 5: never send a packet larger than the client's Maximum Packet Size
        connection.send(data)
        return True

    def _send_qos1(
        self, connection: Outbound, message: Message, retain: bool, cache: EncodeCache | None
    ) -> bool:
        """Send as a new in-flight delivery; False (nothing sent) when the connection has no room for it."""
        head, tail = self._encoded(message, connection.protocol_level, 1, retain, cache)
        if not connection.has_room(len(head) + 2 + len(tail)):
            return False
        packet_id = self._next_packet_id()
        data = head + struct.pack("!H", packet_id) + tail
        if self._send(connection, data):
            self.inflight[packet_id] = _InFlight(message, retain, data)
        return True

    def _next_packet_id(self) -> int:
        packet_id = self._packet_id
        while True:
            packet_id = packet_id % 65535 + 1
            if packet_id not in self.inflight:
                self._packet_id = packet_id
                return packet_id

    def _enqueue(self, message: Message, retain: bool) -> None:
        if len(self.queue) >= self.max_queued:
            self._drop("session queue full (QoS 1)", message)
            return
        self.queue.append((message, retain))

    def _drop(self, why: str, message: Message) -> None:
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 1000 == 0:
            log.warning("dropped message for %s on %s: %s (%d dropped so far)", self.client_id, message.topic,
                        why, self.dropped)  # fmt: skip

    def acknowledge(self, packet_id: int) -> None:
        """PUBACK from the client: frees an in-flight slot and sends the next queued message."""
        if self.inflight.pop(packet_id, None) is not None:
            self.drain()

    def drain(self) -> None:
        """Send what waits, in order, while the window and the connection's room allow: unacknowledged
        deliveries to resend first, then the queue."""
        connection = self.connection
        if connection is None:
            return
        resend = self.resend
        while resend:
            entry = self.inflight.get(resend[0])
            if entry is not None:
                if not connection.has_room(len(entry.data)):
                    return
                self._send(connection, entry.data)
            resend.popleft()
        queue = self.queue
        if not queue:
            return
        now = time.time()
        while queue and len(self.inflight) < self.window:
            message, retain = queue[0]
            if not expired(message, now) and not self._send_qos1(connection, message, retain, None):
                return
            queue.popleft()

    # ------------------------------------------------------------------ lifecycle

    def attach(self, connection: Outbound, enforcer: Enforcer, window: int) -> None:
        """A connection takes this session: unacknowledged deliveries are resent (DUP=1), then the queue."""
        if self.expiry_handle is not None:
            self.expiry_handle.cancel()
            self.expiry_handle = None
        self.connection = connection
        self.enforcer = enforcer
        self.window = window
        for entry in self.inflight.values():
            entry.data = bytes((entry.data[0] | 0x08,)) + entry.data[1:]
        self.resend = deque(self.inflight)
        self.drain()

    def detach(self) -> None:
        self.connection = None
