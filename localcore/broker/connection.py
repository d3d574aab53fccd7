"""One client connection: MQTT protocol handling over an abstract byte stream (TCP, TLS or WebSocket).

Reads are parsed and handled synchronously; everything sent goes through a per-connection queue drained by a
writer task, so a slow socket never blocks a publisher. Any malformed packet or protocol violation closes this
connection only (MQTT 5: DISCONNECT with the reason code first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Protocol

from localcore.broker import codec
from localcore.broker.authorization import ConnectRefused, ConnectRequest, Transport
from localcore.broker.codec import RC
from localcore.broker.enforcement import Enforcer, log_denial
from localcore.broker.errors import InvalidTopic, ProtocolError
from localcore.broker.handlers import PacketHandlers
from localcore.broker.lifecycle import DisconnectReason

if TYPE_CHECKING:
    from localcore.broker.broker import Broker
    from localcore.broker.sessions import Session

log = logging.getLogger("localcore.broker.connection")

_ABORT_AFTER = 5.0  # seconds a closing connection may take to flush before the socket is aborted
_CONNACK_311 = {0x84: codec.RC311_UNACCEPTABLE_VERSION, 0x85: codec.RC311_IDENTIFIER_REJECTED,
                0x86: codec.RC311_BAD_USERNAME_OR_PASSWORD, 0x87: codec.RC311_NOT_AUTHORIZED,
                0x88: 3, 0x89: 3, 0x97: 3}  # fmt: skip


class ByteStream(Protocol):
    """A bidirectional byte stream; `read()` returns b"" at end of stream."""

    transport: Transport
    source_ip: str
    handshake_principal: object | None

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    def abort(self) -> None: ...


class RateWindow:
    """At most `limit` publishes per one-second window (AWS: 100/s per connection in+out, excess dropped)."""

    __slots__ = ("count", "limit", "start")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.start = 0.0
        self.count = 0

    def allow(self) -> bool:
        if self.limit is None:
            return True
        now = time.monotonic()
        if now - self.start >= 1.0:
            self.start = now
            self.count = 0
        if self.count >= self.limit:
            return False
        self.count += 1
        return True


class ByteThrottle:
    """Inbound bytes per one-second window; returns how long to pause reading once the window is full."""

    __slots__ = ("count", "limit", "start")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.start = 0.0
        self.count = 0

    def delay_for(self, size: int, now: float) -> float:
        if self.limit is None:
            return 0.0
        if now - self.start >= 1.0:
            self.start = now
            self.count = 0
        self.count += size
        if self.count <= self.limit:
            return 0.0
        delay = self.start + 1.0 - now
        self.start += 1.0
        self.count -= self.limit
        return max(delay, 0.0)


class ConnectionHandshakeFailed(Exception):
    """CONNECT refused or abandoned; the CONNACK (if any) is already queued."""


class ClientConnection(PacketHandlers):
    """Protocol state of one client."""

    def __init__(self, broker: Broker, stream: ByteStream) -> None:
        self.broker = broker
        self.stream = stream
        self.limits = broker.limits
        self.protocol_level = codec.MQTT311
        self.client_id = ""
        self.principal = ""
        self.session: Session | None = None
        self.enforcer: Enforcer | None = None
        self.will: codec.Will | None = None
        self.client_max_packet_size: int | None = None
        self.session_identifier = str(uuid.uuid4())
        self.version_number = 0
        self.keep_alive = 0
        self.connected = False
        self.rate = RateWindow(self.limits.publishes_per_second)
        self.throttled_reads = 0
        self.aliases: dict[int, str] = {}
        self._out: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._close_reason: DisconnectReason | None = None
        self._publish_will = True
        self._last_activity = 0.0
        self._keep_alive_handle: asyncio.TimerHandle | None = None
        self._abort_handle: asyncio.TimerHandle | None = None
        self.closed = asyncio.Event()

    # ------------------------------------------------------------------ Outbound (used by Session)

    def allow_rate(self) -> bool:
        return self.rate.allow()

    def queue_full(self) -> bool:
        return len(self._out) >= self.limits.max_outbound_packets

    def send(self, data: bytes) -> None:
        if self._closing:
            return
        self._out.append(data)
        self._wake.set()

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """Serve the connection until it ends; never raises."""
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self._write_loop())
        self._last_activity = loop.time()
        try:
            splitter = codec.PacketSplitter(self.limits.max_packet_size)
            pending = await self._handshake(splitter)
            level = self.protocol_level
            for first, body in pending:
                if self._closing:
                    break
                self.handle(codec.decode(first, body, level))
            throttle = ByteThrottle(self.limits.inbound_bytes_per_second)
            while not self._closing:
                data = await self.stream.read()
                if not data:
                    break
                self._last_activity = loop.time()
                delay = throttle.delay_for(len(data), self._last_activity)
                if delay:
                    self.throttled_reads += 1
                    await asyncio.sleep(delay)  # AWS: throughput over 512 KiB/s is delayed, not dropped
                for first, body in splitter.feed(data):
                    if (
                        self._closing
                    ):  # closed meanwhile (takeover, keep-alive, shutdown): act on nothing more
                        break
                    self.handle(codec.decode(first, body, level))
        except ConnectionHandshakeFailed:
            pass
        except ProtocolError as error:
            log.info("closing %s: %s", self.client_id or self.stream.source_ip, error)
            code = error.reason_code if self.connected else None
            self.close(DisconnectReason.CLIENT_ERROR, code)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            self._close_reason = self._close_reason or DisconnectReason.CONNECTION_LOST
        except TimeoutError:
            self._close_reason = self._close_reason or DisconnectReason.CLIENT_ERROR
        except Exception:  # boundary: one broken connection must never take the broker down
            log.exception("internal error on connection %s", self.client_id)
            self.close(DisconnectReason.SERVER_ERROR, RC.UNSPECIFIED)
        finally:
            await self._finish(writer)

    async def _finish(self, writer: asyncio.Task[None]) -> None:
        reason = self._close_reason or DisconnectReason.CONNECTION_LOST
        self._closing = True
        if self._keep_alive_handle is not None:
            self._keep_alive_handle.cancel()
        if self.connected:
            self.broker.connection_closed(self, reason, self._publish_will)
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(writer), _ABORT_AFTER)
        except TimeoutError:
            self.stream.abort()
            writer.cancel()
        if self._abort_handle is not None:
            self._abort_handle.cancel()
        self.closed.set()

    async def _write_loop(self) -> None:
        out = self._out
        wake = self._wake
        try:
            while True:
                if not out:
                    if self._closing:
                        break
                    wake.clear()
                    await wake.wait()
                    continue
                if len(out) == 1:
                    data = out.popleft()
                else:
                    data = b"".join(out)
                    out.clear()
                await self.stream.write(data)
        except (ConnectionError, OSError):
            pass
        except Exception:  # boundary: a transport error on write ends this connection only
            log.exception("write failed on connection %s", self.client_id)
        finally:
            self._closing = True
            with contextlib.suppress(ConnectionError, OSError):
                await self.stream.close()

    def close(self, reason: DisconnectReason, code: int | None = None, publish_will: bool = True) -> None:
        """Close from the server side (MQTT 5 DISCONNECT with `code` first when connected)."""
        if self._closing:
            return
        if code is not None and self.connected and self.protocol_level == codec.MQTT5:
            self._out.append(codec.encode_disconnect(code))
        self._closing = True
        self._close_reason = reason
        self._publish_will = publish_will
        self._wake.set()
        self._abort_handle = asyncio.get_running_loop().call_later(_ABORT_AFTER, self.stream.abort)

    def client_disconnected(self, publish_will: bool) -> None:
        """The client sent DISCONNECT."""
        self._closing = True
        self._close_reason = DisconnectReason.CLIENT_INITIATED_DISCONNECT
        self._publish_will = publish_will
        self._wake.set()

    # ------------------------------------------------------------------ keep-alive

    def _check_keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        limit = self.keep_alive * self.limits.keep_alive_grace
        idle = loop.time() - self._last_activity
        if idle >= limit:
            log.info("keep-alive expired for %s after %.1fs", self.client_id, idle)
            self.close(DisconnectReason.MQTT_KEEP_ALIVE_TIMEOUT, RC.KEEP_ALIVE_TIMEOUT)
        else:
            self._keep_alive_handle = loop.call_later(limit - idle, self._check_keep_alive)

    # ------------------------------------------------------------------ CONNECT

    async def _read_connect(
        self, splitter: codec.PacketSplitter
    ) -> tuple[codec.Connect, list[tuple[int, bytes]]]:
        while True:
            data = await self.stream.read()
            if not data:
                raise ConnectionHandshakeFailed
            packets = splitter.feed(data)
            if packets:
                break
        first, body = packets[0]
        if first >> 4 != codec.CONNECT:
            raise ProtocolError(RC.PROTOCOL_ERROR, "the first packet must be CONNECT")
        try:
            connect = codec.decode_connect(first, body)
        except ProtocolError as error:
            if error.reason_code == RC.UNSUPPORTED_PROTOCOL_VERSION:
                self._out.append(codec.encode_connack(codec.MQTT311, False, codec.RC311_UNACCEPTABLE_VERSION))
            raise
        return connect, packets[1:]

    def _refuse(self, code: int, why: str) -> ConnectionHandshakeFailed:
        level = self.protocol_level
        self._out.append(
            codec.encode_connack(level, False, code if level == codec.MQTT5 else _CONNACK_311.get(code, 5))
        )
        log.info("refused CONNECT from %s (%s): %s", self.client_id, self.stream.source_ip, why)
        self.close(DisconnectReason.AUTH_ERROR)
        return ConnectionHandshakeFailed(why)

    async def _handshake(self, splitter: codec.PacketSplitter) -> list[tuple[int, bytes]]:
        try:
            connect, pending = await asyncio.wait_for(
                self._read_connect(splitter), self.limits.connect_timeout
            )
        except TimeoutError:
            log.info("no CONNECT from %s within %.1fs", self.stream.source_ip, self.limits.connect_timeout)
            raise
        level = self.protocol_level = connect.protocol_level
        limits = self.limits
        client_id = connect.client_id
        assigned = False
        if not client_id:
            if level == codec.MQTT311 and not connect.clean_start:
                raise self._refuse(RC.CLIENT_ID_NOT_VALID, "empty client id with a persistent session")
            client_id = f"localcore-{uuid.uuid4().hex}"
            assigned = level == codec.MQTT5
        self.client_id = client_id
        if limits.max_client_id_bytes is not None and len(client_id.encode()) > limits.max_client_id_bytes:
            raise self._refuse(RC.CLIENT_ID_NOT_VALID, "client id longer than the limit")
        if client_id.startswith("$"):
            raise self._refuse(RC.CLIENT_ID_NOT_VALID, "client ids starting with $ are reserved")
        will = connect.will
        if will is not None:
            if will.qos == 2:
                if level == codec.MQTT5:
                    raise self._refuse(RC.QOS_NOT_SUPPORTED, "will QoS 2")
                raise ProtocolError(RC.QOS_NOT_SUPPORTED, "will QoS 2 (AWS closes without CONNACK)")
            try:
                self.broker.validate_publish_topic(will.topic, will.retain)
            except InvalidTopic as error:
                raise self._refuse(RC.TOPIC_NAME_INVALID, str(error)) from error
            if limits.max_payload_bytes is not None and len(will.payload) > limits.max_payload_bytes:
                raise self._refuse(RC.PACKET_TOO_LARGE, "will payload over the limit")
        request = ConnectRequest(
            client_id=client_id,
            username=connect.username,
            password=connect.password,
            transport=self.stream.transport,
            source_ip=self.stream.source_ip,
            protocol_level=level,
            clean_start=connect.clean_start,
            has_will=will is not None,
            will_retain=bool(will and will.retain),
            handshake_principal=self.stream.handshake_principal,
            session_expiry=connect.properties.get(codec.P_SESSION_EXPIRY, 0),
        )
        try:
            authority = self.broker.authenticator.authenticate(request)
        except ConnectRefused as refused:
            log_denial("iot:Connect", client_id, client_id, None, refused.reason, event="connect-refused")
            raise self._refuse(refused.reason_code, refused.reason) from refused
        enforcer = Enforcer(authority, client_id)
        self.principal = authority.principal_id
        if not enforcer.allowed("iot:Connect", client_id):
            raise self._refuse(RC.NOT_AUTHORIZED, "iot:Connect denied")
        if will is not None and not (
            enforcer.allowed("iot:Publish", will.topic)
            and (not will.retain or enforcer.allowed("iot:RetainPublish", will.topic))
        ):
            raise self._refuse(RC.NOT_AUTHORIZED, "will publish denied")
        self.enforcer = enforcer
        self.will = will
        self.keep_alive = limits.clamp_keep_alive(connect.keep_alive)
        props = connect.properties
        if level == codec.MQTT311:
            expiry = 0 if connect.clean_start else limits.session_expiry_seconds
        else:
            expiry = min(props.get(codec.P_SESSION_EXPIRY, 0), limits.session_expiry_seconds)
            self.client_max_packet_size = props.get(codec.P_MAXIMUM_PACKET_SIZE)
        window = min(limits.max_inflight, props.get(codec.P_RECEIVE_MAXIMUM, 65535))
        session, present = self.broker.open_session(self, client_id, level, connect.clean_start, expiry)
        connack_props: codec.Properties = {}
        if level == codec.MQTT5:
            connack_props = {
                codec.P_MAXIMUM_QOS: 1,
                codec.P_RETAIN_AVAILABLE: 1,
                codec.P_SUB_ID_AVAILABLE: 0,
                codec.P_SHARED_SUB_AVAILABLE: 1,
                codec.P_WILDCARD_SUB_AVAILABLE: 1,
                codec.P_TOPIC_ALIAS_MAXIMUM: limits.topic_alias_maximum,
                codec.P_SERVER_KEEP_ALIVE: self.keep_alive,
                codec.P_MAXIMUM_PACKET_SIZE: limits.max_packet_size,
                codec.P_RECEIVE_MAXIMUM: limits.receive_maximum,
            }
            if assigned:
                connack_props[codec.P_ASSIGNED_CLIENT_ID] = client_id
            if props.get(codec.P_SESSION_EXPIRY, 0) != expiry:
                connack_props[codec.P_SESSION_EXPIRY] = expiry
        self._out.append(codec.encode_connack(level, present, RC.SUCCESS, connack_props))
        self._wake.set()
        self.session = session
        self.connected = True
        loop = asyncio.get_running_loop()
        self._keep_alive_handle = loop.call_later(
            self.keep_alive * limits.keep_alive_grace, self._check_keep_alive
        )
        self.broker.client_connected(self)
        session.attach(self, enforcer, window)
        return pending
