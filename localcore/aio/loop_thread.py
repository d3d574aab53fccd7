"""An asyncio loop in a background thread, for synchronous callers (tests, paho clients, the demo)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
DEFAULT_TIMEOUT = 30.0


class LoopThread:
    """`run(coro)` and `call(fn)` execute on the loop's thread and return the result here."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], T], timeout: float = DEFAULT_TIMEOUT) -> T:
        """Run a plain function on the loop's thread (loop-owned state is not thread-safe)."""
        future: Future[T] = Future()

        def invoke() -> None:
            try:
                future.set_result(function())
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
                future.set_exception(error)

        self.loop.call_soon_threadsafe(invoke)
        return future.result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Join the loop's default-executor threads (`asyncio.to_thread`), then stop the loop and its thread."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(TimeoutError):  # a thread still busy is left to finish on its own
            self.run(self.loop.shutdown_default_executor(), timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self.loop.close()
