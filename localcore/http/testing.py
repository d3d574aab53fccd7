"""Run a gateway on 127.0.0.1, port 0, in a background thread: for tests and synchronous callers."""

from __future__ import annotations

from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from localcore.aio.loop_thread import LoopThread
from localcore.http.gateway import Gateway

T = TypeVar("T")


class GatewayThread:
    """`with GatewayThread(gateway) as gw: boto3.client(..., endpoint_url=gw.url)`."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.gateway = gateway
        self.host = host
        self.timeout = timeout
        self._loop_thread = LoopThread("localcore-gateway")
        self.loop = self._loop_thread.loop
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the gateway's loop and wait for its result."""
        return self._loop_thread.run(coro, self.timeout)

    def start(self) -> GatewayThread:
        self._loop_thread.start()
        self.port = self.run(self.gateway.start(self.host, 0))
        return self

    def stop(self) -> None:
        try:
            self.run(self.gateway.stop())
        finally:
            self._loop_thread.stop(self.timeout)

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
