"""Acknowledgements by packet id (PUBACK, SUBACK) for a client whose network thread may see an ack before the
sending thread asks for it: the early ones are kept until asked for."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class PacketAcks(Generic[T]):
    """`expect(mid)` a future for a packet's ack; `resolve(mid, value)` from the network thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, concurrent.futures.Future[T]] = {}
        self._early: dict[int, T] = {}
        self._failure: Exception | None = None

    def expect(self, mid: int) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if mid in self._early:
                future.set_result(self._early.pop(mid))
            elif self._failure is not None:
                future.set_exception(self._failure)
            else:
                self._waiting[mid] = future
        return future

    def resolve(self, mid: int, value: T) -> None:
        with self._lock:
            future = self._waiting.pop(mid, None)
            if future is None:
                self._early[mid] = value
        if future is not None:
            future.set_result(value)

    def fail_all(self, error: Exception) -> None:
        """No ack will come any more (the connection ended): every wait, now and later, raises `error`."""
        with self._lock:
            self._failure = error
            waiting, self._waiting = list(self._waiting.values()), {}
        for future in waiting:
            future.set_exception(error)
