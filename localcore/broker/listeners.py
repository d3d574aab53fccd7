"""Network listeners: MQTT over TCP, over TLS, and over WebSockets on `/mqtt` (subprotocol `mqtt`).

The WebSocket listener asks an optional `HandshakeVerifier` before the upgrade (SigV4 in AWS) and answers
HTTP 403 on `HandshakeRejected`; the verifier's result becomes `ConnectRequest.handshake_principal`.
"""

from __future__ import annotations

import asyncio
import http
import logging
import socket
import ssl
import urllib.parse
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from localcore.broker.authorization import HandshakeRejected, HandshakeVerifier, Transport
from localcore.broker.errors import ProtocolError
from localcore.broker.reasons import RC

if TYPE_CHECKING:
    from localcore.broker.broker import Broker

log = logging.getLogger("localcore.broker.listeners")

_READ_SIZE = 256 * 1024
# The kernel's send buffer per client socket, fixed (Linux doubles it): without it the kernel grows it up to
# net.ipv4.tcp_wmem's maximum (4 MiB here) for a client that does not read, before the broker's own bound
# (`BrokerLimits.max_outbound_bytes`) sees a byte. Plenty for local links.
SEND_BUFFER = 64 * 1024


def _bound_send_buffer(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)


def _peer_ip(peer: object) -> str:
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return "unknown"


class TcpStream:
    """An asyncio stream pair as a ByteStream (plain TCP or TLS)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, transport: Transport
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.transport: Transport = transport
        self.source_ip = _peer_ip(writer.get_extra_info("peername"))
        self.handshake_principal: object | None = None
        _bound_send_buffer(writer.transport)

    async def read(self) -> bytes:
        return await self._reader.read(_READ_SIZE)

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        try:
            await asyncio.wait_for(self._writer.wait_closed(), 2)
        except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
            self.abort()

    def abort(self) -> None:
        self._writer.transport.abort()


class WebSocketStream:
    """A websockets connection as a ByteStream; MQTT packets travel in binary frames."""

    def __init__(self, connection: ServerConnection, principal: object | None) -> None:
        self._connection = connection
        self.transport: Transport = "ws"
        self.source_ip = _peer_ip(connection.remote_address)
        self.handshake_principal = principal
        _bound_send_buffer(connection.transport)

    async def read(self) -> bytes:
        while True:
            try:
                frame = await self._connection.recv()
            except ConnectionClosed:
                return b""
            if isinstance(frame, str):
                raise ProtocolError(RC.MALFORMED, "MQTT over WebSocket needs binary frames")
            if frame:
                return frame

    async def write(self, data: bytes) -> None:
        try:
            await self._connection.send(data)
        except ConnectionClosed as error:
            raise ConnectionResetError("websocket closed") from error

    async def close(self) -> None:
        await self._connection.close()

    def abort(self) -> None:
        self._connection.transport.abort()


class TcpListener:
    """MQTT over TCP, or TLS when given an SSL context."""

    def __init__(
        self, broker: Broker, host: str, port: int, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.broker = broker
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, ssl=self.ssl_context, limit=_READ_SIZE
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        """Stop accepting new connections."""
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.broker.serve(TcpStream(reader, writer, "tls" if self.ssl_context else "tcp"))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def _select_mqtt(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    return Subprotocol("mqtt") if "mqtt" in offered else None


class WebSocketListener:
    """MQTT over WebSockets on path `/mqtt` (AWS's path), with an optional handshake verifier."""

    def __init__(
        self,
        broker: Broker,
        host: str,
        port: int,
        verifier: HandshakeVerifier | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.broker = broker
        self.host = host
        self.port = port
        self.verifier = verifier
        self.ssl_context = ssl_context
        self._server: Server | None = None
        self._principals: weakref.WeakKeyDictionary[ServerConnection, object] = weakref.WeakKeyDictionary()

    async def start(self) -> None:
        self._server = await serve(
            self._serve,
            self.host,
            self.port,
            ssl=self.ssl_context,
            process_request=self._process_request,
            select_subprotocol=_select_mqtt,
            compression=None,
            # a frame may carry several MQTT packets; each packet is still checked against max_packet_size
            max_size=max(1 << 20, 2 * self.broker.limits.max_packet_size),
            # frames read ahead while the connection's reads pause (512 KiB/s): 2, not websockets' 16 (16 MiB)
            max_queue=2,
            ping_interval=None,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urllib.parse.urlsplit(request.path)
        if url.path != "/mqtt":
            return connection.respond(http.HTTPStatus.NOT_FOUND, "MQTT over WebSockets lives at /mqtt\n")
        if self.verifier is None:
            return None
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        try:
            # the raw request target too: SigV4 checks the query exactly as it was signed ('+' stays '+')
            principal = self.verifier.verify(request.path, query, headers)
        except HandshakeRejected as rejected:
            log.warning("websocket upgrade rejected (%d): %s", rejected.status, rejected.reason)
            return connection.respond(rejected.status, f"{rejected.body}\n")
        if principal is not None:
            self._principals[connection] = principal
        return None

    def close(self) -> None:
        """Stop accepting new connections (open ones are ended by `Broker.shutdown`)."""
        if self._server is not None:
            self._server.close(close_connections=False)

    async def _serve(self, connection: ServerConnection) -> None:
        await self.broker.serve(WebSocketStream(connection, self._principals.get(connection)))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
