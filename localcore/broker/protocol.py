"""The MQTT server protocol without I/O: bytes and time in; bytes to send, events and a deadline out.

The shape of websockets' sans-I/O `Protocol`. The I/O side (`connection.ClientConnection`) feeds what it reads
to `receive_data(data, now)`, calls `tick(now)` once `deadline()` has passed, writes what `data_to_send()`
returns and calls `connection_lost()` when the transport is gone. Nothing here awaits, sleeps or touches a
socket, so protocol rules are tested by feeding encoded packets (tests/unit/broker/test_broker_protocol.py).

The broker (sessions, subscriptions, retained messages, lifecycle events, authentication) is reached through
`router.Router`, and reads the connection back as a `router.Client`. Deliveries from other clients arrive
through the methods a `Session` calls (`send`, `allow_rate`, `has_room`, `close`), outside any
`receive_data`; `on_output` and `on_closing` tell the I/O side. Rate windows read `clock` for the same reason:
a delivery comes with no time.

What waits for the client is bounded in bytes (`outbound.OutboundQueue`, `limits.max_outbound_bytes`):
deliveries stop at half the bound (QoS 0 dropped, QoS 1 kept in the session until `data_to_send` makes room),
and a reply that takes the queue over the whole bound closes the connection as a slow consumer.

AWS choices (see docs/broker.md for the reasoning):
- QoS 2 PUBLISH: MQTT 5 → DISCONNECT 0x9B; MQTT 3.1.1 → connection closed (CLIENT_ERROR).
- Denied or invalid PUBLISH: MQTT 5 QoS 1 → PUBACK with the reason code; MQTT 5 QoS 0 → DISCONNECT with it;
  MQTT 3.1.1 → connection closed.
- Denied SUBSCRIBE filter: SUBACK failure (0x80 on 3.1.1, 0x87 on 5); on 3.1.1 the connection is then closed.
- Publishes over 100/s per connection are discarded (QoS 1 still gets a PUBACK: 0x97 on MQTT 5).
- A slow consumer (outbound queue over its bound): MQTT 5 → DISCONNECT 0x97 Quota exceeded; lifecycle
  `THROTTLED` ("disconnected for exceeding a throttling limit"). AWS documents no outbound bound of its own.
- Before CONNACK the broker holds one partial CONNECT at most: the first byte must be CONNECT's, its Remaining
  Length within the maximum packet size, and the whole of it must come within `connect_timeout` of the accept.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from localcore.broker import codec
from localcore.broker import connect as steps
from localcore.broker.connect import Peer, Refusal
from localcore.broker.enforcement import Enforcer
from localcore.broker.errors import InvalidTopic, ProtocolError
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.message import Message, Publisher, new_trace_id
from localcore.broker.outbound import OutboundQueue
from localcore.broker.properties import TopicAliases, message_properties
from localcore.broker.rates import RateWindow
from localcore.broker.reasons import RC, SUBACK_FAILURE_311, Connack311, connack_311
from localcore.broker.router import Router
from localcore.broker.sessions import Session
from localcore.broker.topics import ParsedFilter, parse_filter

log = logging.getLogger("localcore.broker.protocol")


class State(IntEnum):
    """Where a connection is in its life (websockets' `State`, with MQTT's CONNECT in place of the handshake)."""

    CONNECTING = 0  # waiting for CONNECT
    OPEN = 1  # CONNACK 0 sent
    CLOSING = 2  # no more input is handled; what is queued is flushed, then the transport closes
    CLOSED = 3  # the transport is gone and the broker was told


CONNECTING, OPEN, CLOSING, CLOSED = State.CONNECTING, State.OPEN, State.CLOSING, State.CLOSED


@dataclass(frozen=True, slots=True)
class Accepted:
    """The CONNECT was accepted (CONNACK 0 queued)."""

    client_id: str
    session_present: bool
    keep_alive: int  # seconds, after AWS's clamping


@dataclass(frozen=True, slots=True)
class Closing:
    """The connection ends: no more input is handled. `reason` is the lifecycle event's `disconnectReason`."""

    reason: DisconnectReason
    code: int | None  # the MQTT 5 reason code that explains it (whether or not it went on the wire)
    detail: str


Event = Accepted | Closing


def _nothing() -> None:
    pass


class ServerProtocol:
    """One client's MQTT 3.1.1/5.0 conversation with the broker."""

    def __init__(
        self, router: Router, peer: Peer, now: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.router = router
        self.peer = peer
        self.limits = limits = router.limits
        self.clock = clock
        self.state = CONNECTING
        self.protocol_level = codec.MQTT311
        self.client_id = ""
        self.principal = ""
        self.session_identifier = str(uuid.uuid4())
        self.version_number = 0
        self.session: Session | None = None
        self.enforcer: Enforcer | None = None
        self.will: codec.Will | None = None
        self.keep_alive = 0
        self.client_max_packet_size: int | None = None
        self.close_reason: DisconnectReason | None = None
        self.publish_will = True
        self.on_output: Callable[[], None] = _nothing  # output was queued (set by the I/O side)
        self.on_closing: Callable[[], None] = _nothing  # the connection entered CLOSING (set by the I/O side)
        self._accepted = False
        self._splitter = codec.PacketSplitter(limits.max_packet_size)
        self._out = OutboundQueue(limits.max_outbound_bytes)
        self._events: list[Event] = []
        self._rate = RateWindow(limits.publishes_per_second)
        self._aliases = TopicAliases(limits.topic_alias_maximum)
        self._started = now
        self._last_activity = now

    # ------------------------------------------------------------------ bytes and time in, bytes out

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the client; ignored once the connection is closing."""
        if self.state >= CLOSING:
            return
        self._last_activity = now
        try:
            if (
                self.state is CONNECTING
                and data
                and not self._splitter.pending
                and data[0] >> 4 != codec.CONNECT
            ):
                raise ProtocolError(RC.PROTOCOL_ERROR, "the first packet must be CONNECT")
            for first, body in self._splitter.feed(data):
                if self.state is OPEN:
                    self._handle(codec.decode(first, body, self.protocol_level))
                elif self.state is CONNECTING:
                    self._receive_connect(first, body)
                else:
                    break  # closed meanwhile (refusal, takeover, shutdown): act on nothing more
        except ProtocolError as error:
            self.fail(error)

    def deadline(self) -> float | None:
        """When `tick` has something to do: the CONNECT timeout; then the keep-alive expiry, or the denial
        summary (`DenialLog.due`) when it is earlier."""
        if self.state is CONNECTING:
            return self._started + self.limits.connect_timeout
        if self.state is OPEN:
            expiry = self._last_activity + self.keep_alive * self.limits.keep_alive_grace
            summary = self.enforcer.denials.due() if self.enforcer is not None else None
            return expiry if summary is None else min(expiry, summary)
        return None

    def tick(self, now: float) -> None:
        """Write a due denial summary; close a connection that sent no CONNECT in time, or nothing for 1.5
        keep-alive periods."""
        if self.state is CONNECTING:
            if now >= self._started + self.limits.connect_timeout:
                log.info("no CONNECT from %s within %.1fs", self.peer.source_ip, self.limits.connect_timeout)
                self.close(DisconnectReason.CLIENT_ERROR, detail="no CONNECT in time")
            return
        if self.state is not OPEN:
            return
        denials = self.enforcer.denials if self.enforcer is not None else None
        summary = denials.due() if denials is not None else None
        if denials is not None and summary is not None and now >= summary:
            denials.flush()
        if now >= self._last_activity + self.keep_alive * self.limits.keep_alive_grace:
            log.info("keep-alive expired for %s after %.1fs", self.client_id, now - self._last_activity)
            self.close(DisconnectReason.MQTT_KEEP_ALIVE_TIMEOUT, RC.KEEP_ALIVE_TIMEOUT, "keep-alive expired")

    def data_to_send(self) -> bytes:
        """Everything queued for the client since the last call (b"" when nothing is).

        Taking it makes room: deliveries the session held back for room are queued again (for the next call).
        """
        data = self._out.take()
        if data and self.state is OPEN and self.session is not None:
            self.session.drain()
        return data

    def events_received(self) -> list[Event]:
        """What happened since the last call: `Accepted`, `Closing` (each at most once per connection)."""
        events, self._events = self._events, []
        return events

    def fail(self, error: ProtocolError) -> None:
        """A malformed packet or protocol violation: close (once connected, MQTT 5: DISCONNECT with its code)."""
        log.info("closing %s: %s", self.client_id or self.peer.source_ip, error)
        self.close(DisconnectReason.CLIENT_ERROR, error.reason_code, error.detail)

    def close(self, reason: DisconnectReason, code: int | None = None, detail: str = "") -> None:
        """Close from the server side; a connected MQTT 5 client gets DISCONNECT with `code` first."""
        if self.state >= CLOSING:
            return
        if code is not None and self._accepted and self.protocol_level == codec.MQTT5:
            self._out.append(codec.encode_disconnect(code))
        self._begin_closing(reason, code, True, detail or reason.value)

    def connection_lost(self) -> None:
        """The transport is gone (or closed after CLOSING): the broker is told once, with the close reason."""
        if self.state is CLOSED:
            return
        if self.state is not CLOSING:
            self.close_reason = DisconnectReason.CONNECTION_LOST
            self._events.append(Closing(DisconnectReason.CONNECTION_LOST, None, "connection lost"))
        self.state = CLOSED
        if self.enforcer is not None:
            self.enforcer.denials.flush()
        if self._accepted:
            reason = self.close_reason or DisconnectReason.CONNECTION_LOST
            self.router.connection_closed(self, reason, self.publish_will)

    def _begin_closing(
        self, reason: DisconnectReason, code: int | None, publish_will: bool, detail: str
    ) -> None:
        self.state = CLOSING
        self.close_reason = reason
        self.publish_will = publish_will
        self._events.append(Closing(reason, code, detail))
        self.on_closing()
        self.on_output()

    # ------------------------------------------------------------------ Outbound (what a Session calls)

    @property
    def source_ip(self) -> str:
        return self.peer.source_ip

    def send(self, data: bytes) -> None:
        """Queue one packet for the client (dropped once the connection is closing); over the outbound bound,
        the client is not reading what it asks for: close it as a slow consumer."""
        if self.state >= CLOSING:
            return
        out = self._out
        if not out.append(data):
            self._close_slow_consumer()
        elif len(out) == 1:  # the writer only waits when nothing is queued
            self.on_output()

    def allow_rate(self) -> bool:
        return self._rate.allow(self.clock())

    def has_room(self, size: int) -> bool:
        """Whether a delivery of `size` bytes may be queued now (`OutboundQueue.fits_delivery`)."""
        return self._out.fits_delivery(size)

    def _close_slow_consumer(self) -> None:
        out = self._out
        log.warning(
            "closing %s (%s): %d bytes in %d packets wait for a client that does not read (bound %d): slow consumer",
            self.client_id, self.peer.source_ip, out.size, len(out), out.limit,
        )  # fmt: skip
        out.clear()  # nothing queued would reach it: free the memory now
        self.close(DisconnectReason.THROTTLED, RC.QUOTA_EXCEEDED, "slow consumer")

    # ------------------------------------------------------------------ CONNECT

    def _receive_connect(self, first: int, body: bytes) -> None:
        connect = self._decode_connect(first, body)
        self.protocol_level = connect.protocol_level
        try:
            enforcer, assigned = self._authenticate(connect)
        except Refusal as refusal:
            self._refuse(refusal)
            return
        self._accept(connect, enforcer, assigned)

    def _decode_connect(self, first: int, body: bytes) -> codec.Connect:
        try:  # the packet type was checked at its first byte (`receive_data`)
            return codec.decode_connect(first, body)
        except ProtocolError as error:
            if error.reason_code == RC.UNSUPPORTED_PROTOCOL_VERSION:
                refusal = Connack311.UNACCEPTABLE_PROTOCOL_VERSION
                self._out.append(codec.encode_connack(codec.MQTT311, False, refusal))
            raise

    def _authenticate(self, connect: codec.Connect) -> tuple[Enforcer, bool]:
        """The steps that may refuse a CONNECT, in order; the enforcer, and whether the client id is assigned."""
        client_id, assigned = steps.client_id_of(connect)
        self.client_id = client_id
        steps.check_client_id(client_id, self.limits)
        steps.check_will(connect, self.limits, self.router.validate_publish_topic)
        request = steps.connect_request(connect, client_id, self.peer)
        enforcer = steps.authenticate(request, self.router.authenticator, self.clock)
        self.principal = enforcer.authority.principal_id
        steps.authorize_will(connect.will, enforcer)
        return enforcer, assigned

    def _refuse(self, refusal: Refusal) -> None:
        level = self.protocol_level
        code = refusal.code if level == codec.MQTT5 else connack_311(refusal.code)
        self._out.append(codec.encode_connack(level, False, code))
        log.info("refused CONNECT from %s (%s): %s", self.client_id, self.peer.source_ip, refusal)
        self.close(DisconnectReason.AUTH_ERROR, refusal.code, refusal.why)

    def _accept(self, connect: codec.Connect, enforcer: Enforcer, assigned: bool) -> None:
        limits, level = self.limits, self.protocol_level
        self.enforcer = enforcer
        self.will = connect.will
        self.keep_alive = limits.clamp_keep_alive(connect.keep_alive)
        expiry = steps.session_expiry(connect, limits)
        if level == codec.MQTT5:
            self.client_max_packet_size = connect.properties.get(codec.P_MAXIMUM_PACKET_SIZE)
        window = min(limits.max_inflight, connect.properties.get(codec.P_RECEIVE_MAXIMUM, 65535))
        session, present = self.router.open_session(self.client_id, level, connect.clean_start, expiry)
        props: codec.Properties = {}
        if level == codec.MQTT5:
            assigned_id = self.client_id if assigned else None
            props = steps.connack_properties(connect, limits, self.keep_alive, expiry, assigned_id)
        self.send(codec.encode_connack(level, present, RC.SUCCESS, props))
        self.session = session
        self._accepted = True
        self.state = OPEN
        self._events.append(Accepted(self.client_id, present, self.keep_alive))
        self.version_number = self.router.client_connected(self)
        session.attach(self, enforcer, window)

    # ------------------------------------------------------------------ after CONNECT

    def _handle(self, packet: codec.Packet) -> None:
        match packet:
            case codec.Publish():
                self._on_publish(packet)
            case codec.Puback():
                assert self.session is not None
                self.session.acknowledge(packet.packet_id)
            case codec.Subscribe():
                self._on_subscribe(packet)
            case codec.Unsubscribe():
                self._on_unsubscribe(packet)
            case codec.Pingreq():
                self.send(codec.PINGRESP_BYTES)
            case codec.Disconnect():
                self._on_disconnect(packet)

    def _reject_publish(self, packet: codec.Publish, code: RC, reason: DisconnectReason) -> None:
        if self.protocol_level == codec.MQTT5 and packet.qos == 1:
            self.send(codec.encode_puback(codec.MQTT5, packet.packet_id, code))
        else:
            self.close(reason, code)

    def _on_publish(self, packet: codec.Publish) -> None:
        if packet.qos == 2:
            raise ProtocolError(RC.QOS_NOT_SUPPORTED, "QoS 2 is not supported")
        topic, props = packet.topic, packet.properties
        if props:
            topic = self._aliases.resolve(topic, props)
            if codec.P_SUBSCRIPTION_ID in props:
                raise ProtocolError(RC.PROTOCOL_ERROR, "subscription identifier in a client PUBLISH")
        max_payload = self.limits.max_payload_bytes
        if max_payload is not None and len(packet.payload) > max_payload:
            raise ProtocolError(RC.PACKET_TOO_LARGE, f"payload of {len(packet.payload)} bytes over the limit")
        try:
            self.router.validate_publish_topic(topic, packet.retain)
        except InvalidTopic:
            self._reject_publish(packet, RC.TOPIC_NAME_INVALID, DisconnectReason.CLIENT_ERROR)
            return
        if not self.allow_rate():
            self.router.note_throttled(self.client_id, topic)
            if packet.qos:
                self.send(codec.encode_puback(self.protocol_level, packet.packet_id, RC.QUOTA_EXCEEDED))
            return
        enforcer = self.enforcer
        assert enforcer is not None
        if not enforcer.allowed("iot:Publish", topic) or (
            packet.retain and not enforcer.allowed("iot:RetainPublish", topic)
        ):
            self._reject_publish(packet, RC.NOT_AUTHORIZED, DisconnectReason.AUTH_ERROR)
            return
        message = Message(
            topic,
            packet.payload,
            packet.qos,
            packet.retain,
            message_properties(props, self.limits.max_message_expiry_seconds),
            Publisher(self.client_id, self.principal, self.peer.source_ip, new_trace_id()),
        )
        self.router.route(message, self.session)
        if packet.qos:
            self.send(codec.encode_puback(self.protocol_level, packet.packet_id))

    def _on_subscribe(self, packet: codec.Subscribe) -> None:
        level, limits = self.protocol_level, self.limits
        session, enforcer = self.session, self.enforcer
        assert session is not None and enforcer is not None
        if codec.P_SUBSCRIPTION_ID in packet.properties:
            raise ProtocolError(
                RC.SUBSCRIPTION_IDS_NOT_SUPPORTED, "subscription identifiers are not supported"
            )
        mqtt5 = level == codec.MQTT5
        cap = limits.max_filters_per_subscribe
        if cap is not None and len(packet.requests) > cap:
            code = RC.QUOTA_EXCEEDED if mqtt5 else SUBACK_FAILURE_311
            self.send(codec.encode_suback(level, packet.packet_id, [code] * len(packet.requests)))
            return
        codes: list[int] = []
        added: list[str] = []
        retained: list[tuple[ParsedFilter, int]] = []
        denied = False
        for text, options in packet.requests:
            qos = min(options & 0x03, 1)  # AWS grants QoS 1 for a QoS 2 request
            no_local = bool(options & 0x04)
            retain_as_published = bool(options & 0x08)
            retain_handling = (options >> 4) & 0x03
            try:
                parsed = parse_filter(text, limits)
            except InvalidTopic:
                codes.append(RC.TOPIC_FILTER_INVALID if mqtt5 else SUBACK_FAILURE_311)
                continue
            if parsed.share_group is not None and no_local:
                raise ProtocolError(RC.PROTOCOL_ERROR, "No Local on a shared subscription")
            if not enforcer.allowed("iot:Subscribe", text):
                codes.append(RC.NOT_AUTHORIZED if mqtt5 else SUBACK_FAILURE_311)
                denied = True
                continue
            most = limits.max_subscriptions_per_connection
            if most is not None and text not in session.subscriptions and len(session.subscriptions) >= most:
                codes.append(RC.QUOTA_EXCEEDED if mqtt5 else SUBACK_FAILURE_311)
                continue
            is_new = self.router.subscribe(session, parsed, qos, no_local, retain_as_published)
            codes.append(qos)
            added.append(text)
            if retain_handling == 0 or (retain_handling == 1 and is_new):
                retained.append((parsed, qos))
        self.send(codec.encode_suback(level, packet.packet_id, codes))
        for parsed, qos in retained:
            self.router.deliver_retained(session, parsed, qos)
        if added:
            self.router.subscriptions_changed(self, "subscribed", added)
        if denied and not mqtt5:
            self.close(DisconnectReason.AUTH_ERROR)

    def _on_unsubscribe(self, packet: codec.Unsubscribe) -> None:
        session = self.session
        assert session is not None
        codes: list[int] = []
        removed: list[str] = []
        for text in packet.filters:
            try:
                parsed = parse_filter(text, self.limits)
            except InvalidTopic:
                codes.append(RC.TOPIC_FILTER_INVALID)
                continue
            existed = self.router.unsubscribe(session, parsed)
            codes.append(RC.SUCCESS if existed else RC.NO_SUBSCRIPTION_EXISTED)
            removed.append(text)
        self.send(codec.encode_unsuback(self.protocol_level, packet.packet_id, codes))
        if removed:
            self.router.subscriptions_changed(self, "unsubscribed", removed)

    def _on_disconnect(self, packet: codec.Disconnect) -> None:
        session = self.session
        assert session is not None
        requested = packet.properties.get(codec.P_SESSION_EXPIRY)
        if requested is not None:
            if session.expiry == 0 and requested > 0:
                raise ProtocolError(RC.PROTOCOL_ERROR, "session expiry cannot change from 0 on DISCONNECT")
            session.expiry = min(requested, self.limits.session_expiry_seconds)
        publish_will = packet.reason_code == RC.DISCONNECT_WITH_WILL
        reason = DisconnectReason.CLIENT_INITIATED_DISCONNECT
        self._begin_closing(reason, packet.reason_code, publish_will, "client DISCONNECT")
