"""Give freed heap memory back to the operating system after a surge (10,000 sockets, a prompt flood).

Once a surge ends, the live Python objects are back to their baseline, but glibc's malloc keeps the freed
memory in its heap, so the resident size stays high (`python -m bench.flood` prints both). `malloc_trim(0)`
returns the free pages; with nothing to return it costs about 0.05 ms, so trimming every `interval_s` is
free. What it cannot return: CPython's small-object arenas that still hold one live object. Not glibc (macOS,
musl): there is nothing to call, and the trimmer does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
from collections.abc import Callable

from localcore.aio.service import Service

TRIM_INTERVAL_S = 10.0


def glibc_malloc_trim() -> Callable[[], object] | None:
    """`malloc_trim(0)` of the C library, or None when the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class MemoryTrimmer(Service):
    """Trims the C heap every `interval_s` seconds while started."""

    def __init__(self, interval_s: float = TRIM_INTERVAL_S, trim: Callable[[], object] | None = None) -> None:
        self.interval_s = interval_s
        self._trim = trim if trim is not None else glibc_malloc_trim()
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        if self._trim is not None:
            self._task = asyncio.create_task(self._run(self._trim), name="memory-trimmer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, trim: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(self.interval_s)  # the trimmer's own period
            trim()
