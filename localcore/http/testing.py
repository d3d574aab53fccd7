"""Run a gateway on 127.0.0.1, port 0, in a background thread: for tests and synchronous callers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from localcore.http.gateway import Gateway

T = TypeVar("T")


class GatewayThread:
    """`with GatewayThread(gateway) as gw: boto3.client(..., endpoint_url=gw.url)`."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.gateway = gateway
        self.host = host
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="localcore-gateway", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the gateway's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(self.timeout)

    def start(self) -> GatewayThread:
        self._thread.start()
        try:
            self.port = self.run(self.gateway.start(self.host, 0))
        except BaseException:
            self._stop_loop()
            raise
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self.run(self.gateway.stop())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(self.timeout)
        if not self._thread.is_alive():
            self.loop.close()

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
