"""The memory trimmer: trims on its period while started, never after it stopped, and is inert without glibc."""

from __future__ import annotations

import asyncio
import sys

import pytest

from localcore.aio.memory import MemoryTrimmer, glibc_malloc_trim


def test_the_trimmer_trims_on_its_period_until_stopped() -> None:
    asyncio.run(_trims_until_stopped())


async def _trims_until_stopped() -> None:
    trimmed = asyncio.Event()
    calls: list[int] = []

    def trim() -> None:
        calls.append(1)
        if len(calls) == 3:
            trimmed.set()

    async with MemoryTrimmer(interval_s=0.001, trim=trim) as trimmer:
        assert trimmer.active
        await asyncio.wait_for(trimmed.wait(), 10)
    assert not trimmer.active
    stopped_at = len(calls)
    await asyncio.sleep(0.01)  # a few of its periods: no trim after stop
    assert len(calls) == stopped_at


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_glibc_malloc_trim_is_found_and_callable_here() -> None:
    trim = glibc_malloc_trim()
    assert trim is not None
    assert trim() in (0, 1)  # 1: memory was released, 0: there was none to release


def test_without_a_trim_function_the_trimmer_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("localcore.aio.memory.glibc_malloc_trim", lambda: None)

    async def start_and_stop() -> bool:
        async with MemoryTrimmer(interval_s=0.001) as trimmer:
            return trimmer.active

    assert asyncio.run(start_and_stop()) is False
