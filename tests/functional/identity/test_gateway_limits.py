"""The gateway's bounds on slow and idle clients (localcore/http/connections.py): a header deadline, a body
deadline, and a connection cap that closes the oldest unhandled connection to admit a new one.

AWS documents no exact deadlines for its HTTPS front ends; these follow the common web-server defence against
slow requests (a deadline per request phase, and a cap), with localcore's own values."""

from __future__ import annotations

import asyncio
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from aiohttp import web

from localcore.http import Gateway
from localcore.http.connections import HttpLimits
from localcore.http.testing import GatewayThread
from tests.functional.broker.test_broker_robustness import read_until_closed

WAIT = 10.0  # an upper bound for the server to act; every wait ends as soon as it has
HOLD = b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"


class Held:
    """Requests to /hold stay in their handler until `release()`; `entered` counts them in."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.released = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def handler(self, request: web.Request) -> web.StreamResponse:
        self.loop = asyncio.get_running_loop()
        self.entered.release()
        await self.released.wait()
        return web.json_response({})

    def release(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.released.set)


@pytest.fixture
def held() -> Held:
    return Held()


@pytest.fixture
def gateway_with(held: Held) -> Iterator[Callable[[HttpLimits], GatewayThread]]:
    running: list[GatewayThread] = []

    def start(limits: HttpLimits) -> GatewayThread:
        gateway = Gateway(limits=limits)

        async def ok(request: web.Request) -> web.StreamResponse:
            return web.json_response({"body": len(await request.read())})

        gateway.add_route("POST", "/ok", ok, service="test")
        gateway.add_route("GET", "/hold", held.handler, service="test")
        running.append(GatewayThread(gateway).start())
        return running[-1]

    yield start
    held.release()
    for gw in running:
        gw.stop()


def _open(gw: GatewayThread, data: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=WAIT)
    if data:
        sock.sendall(data)
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection; times out (WAIT) otherwise."""
    with sock:
        return read_until_closed(sock)


def _post_ok(gw: GatewayThread) -> int:
    request = urllib.request.Request(gw.url + "/ok", data=b"hello", method="POST")
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        status: int = response.status
        return status


def test_a_connection_that_never_finishes_its_headers_is_closed(
    gateway_with: Callable[[HttpLimits], GatewayThread],
) -> None:
    """Half a request line, then nothing, or nothing at all: closed at the header deadline."""
    gw = gateway_with(HttpLimits(header_timeout=0.3))
    assert _until_closed(_open(gw, b"POST /ok HTTP/1.1\r\nHost: x\r\n")) == b""
    assert _until_closed(_open(gw)) == b""
    assert _post_ok(gw) == 200


def test_a_body_that_never_arrives_is_408_and_closed(
    gateway_with: Callable[[HttpLimits], GatewayThread],
) -> None:
    """Headers promise 100 bytes, 10 come: 408 RequestTimeoutException at the body deadline, then closed."""
    gw = gateway_with(HttpLimits(body_timeout=0.3))
    headers = b"POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    answer = _until_closed(_open(gw, headers + b"0123456789"))
    assert answer.startswith(b"HTTP/1.1 408") and b"RequestTimeoutException" in answer


def test_when_full_the_oldest_idle_connection_makes_room(
    gateway_with: Callable[[HttpLimits], GatewayThread],
) -> None:
    """Four idle sockets fill the cap (their header deadline is far away); a real request still gets
    through, and the oldest idle socket is the one closed for it."""
    gw = gateway_with(HttpLimits(header_timeout=60, max_connections=4))
    idle = [_open(gw) for _ in range(4)]
    assert _post_ok(gw) == 200
    assert _until_closed(idle[0]) == b""
    for sock in idle[1:]:
        sock.close()


def test_when_every_connection_is_being_handled_a_new_one_is_503(
    gateway_with: Callable[[HttpLimits], GatewayThread], held: Held
) -> None:
    """Connections whose request is being handled are never closed to make room: a fifth is refused (503),
    and once they are answered the gateway admits new connections again."""
    gw = gateway_with(HttpLimits(header_timeout=60, max_connections=4))
    busy = [_open(gw, HOLD) for _ in range(4)]
    for _ in busy:
        assert held.entered.acquire(timeout=WAIT)
    assert _until_closed(_open(gw)).startswith(b"HTTP/1.1 503")
    held.release()
    for sock in busy:
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
    assert _post_ok(gw) == 200


def test_the_connection_cap_keeps_three_quarters_of_the_descriptors_for_the_rest() -> None:
    """With a soft limit of 1024 open files the gateway may hold 256 connections; never fewer than 8."""
    assert HttpLimits(max_connections=1000).within(1024).max_connections == 256
    assert HttpLimits(max_connections=100).within(1 << 20).max_connections == 100
    assert HttpLimits().within(16).max_connections == 8
