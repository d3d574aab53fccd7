"""Bounded HTTP connections for the gateway: header and body deadlines, a connection cap, fd headroom.

A socket that never finishes its request must not hold a file descriptor for ever: the broker, the gateway,
DynamoDB and the Lambda workers' pipes share one process limit (RLIMIT_NOFILE), and 20,000 idle sockets once
took all of it. So:

- **headers** must arrive within `header_timeout` of the connection (or of the previous answer on a keep-alive
  connection), else the connection is closed (aiohttp's keep-alive timer, which also covers a connection that
  has sent part of a request line);
- **a body** must arrive within `body_timeout` once the headers are in, else 408 and the connection is closed;
- at most `max_connections` are open: when full, a new connection closes the oldest one that is not having a
  request handled (idle, still sending headers, or still sending its body), so idle sockets cannot lock
  legitimate clients out; only when every connection is being handled is the new one refused (503);
- `max_connections` is at most a quarter of the soft RLIMIT_NOFILE, which is raised to the hard limit at start
  where the system allows, so the broker keeps the other three quarters.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass, replace

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)
BUSY_ANSWER = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
FD_SHARE = 4  # the gateway may use up to 1/FD_SHARE of the descriptors


@dataclass(frozen=True)
class HttpLimits:
    """Deadlines (seconds) and the connection cap of the gateway."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1000

    def within(self, open_files_limit: int) -> HttpLimits:
        """These limits with the connection cap at most a `FD_SHARE`-th of the process's descriptors."""
        return replace(self, max_connections=max(8, min(self.max_connections, open_files_limit // FD_SHARE)))


def raise_open_files_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to its hard limit where allowed; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:
            log.info("could not raise the open files limit from %s to %s: %s", soft, target, error)
    return soft


class ConnectionGuard:
    """The gateway's protocol factory: admits a connection, closing the oldest unhandled one when full.

    `handling` holds the connections whose request is being handled now (the gateway's middleware adds and
    removes them); every other open connection may be closed to make room. The decision is taken when the
    connection is made (asyncio makes connections in accept order), so every earlier one is counted.
    """

    def __init__(self, server: web.Server, max_connections: int) -> None:
        self._server = server
        self.max_connections = max_connections
        self.handling: set[RequestHandler] = set()
        self.closed_for_room = 0
        self.refused = 0

    def __call__(self) -> asyncio.Protocol:
        return _Admission(self)

    def new_handler(self) -> RequestHandler:
        return self._server()

    def admit(self) -> bool:
        """Room for one more connection: True, after closing the oldest unhandled one if it was full."""
        open_now = [c for c in self._server.connections if c.transport is not None]
        if len(open_now) < self.max_connections:
            return True
        spare = next((c for c in open_now if c not in self.handling), None)
        if spare is None:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning(
                    "gateway full (%d connections, all busy): refused %d", len(open_now), self.refused
                )
            return False
        spare.force_close()
        self.closed_for_room += 1
        if self.closed_for_room == 1 or self.closed_for_room % 1000 == 0:
            log.warning(
                "gateway full (%d connections): closed %d unfinished or idle ones to admit new ones",
                len(open_now),
                self.closed_for_room,
            )
        return True


class _Admission(asyncio.Protocol):
    """One accepted socket: refused (503, closed) or handed to an aiohttp request handler."""

    def __init__(self, guard: ConnectionGuard) -> None:
        self._guard = guard
        self._inner: RequestHandler | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._guard.admit():
            assert isinstance(transport, asyncio.Transport)
            transport.write(BUSY_ANSWER)
            transport.close()
            return
        self._inner = self._guard.new_handler()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> None:
        if self._inner is not None:
            self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a `ConnectionGuard`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._guard = guard

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._guard, self._host, self._port, backlog=self._backlog, reuse_address=True
        )
