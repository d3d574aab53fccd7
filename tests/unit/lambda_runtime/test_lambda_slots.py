"""Concurrency slots: sync takes or throttles, async waits in order; reservations carved out of the account
limit (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)."""

from __future__ import annotations

import asyncio
import os

import pytest

from localcore.lambda_runtime import ConcurrencyConfig, InvalidFunctionConfig
from localcore.lambda_runtime.concurrency import (
    ACCOUNT_LIMIT_REASON,
    MIN_ACCOUNT_LIMIT,
    RESERVED_LIMIT_REASON,
    WORKER_MB,
    WORKERS_PER_CPU,
    AccountConcurrency,
    Slots,
    default_account_limit,
    physical_memory_bytes,
)


def test_a_full_pool_throttles_and_hands_freed_slots_to_waiters_in_order() -> None:
    """Queued async events run as capacity frees, oldest first; a newcomer does not jump the queue."""

    async def scenario():
        slots = Slots(1, RESERVED_LIMIT_REASON)
        assert slots.try_acquire()
        assert not slots.try_acquire(), "a second synchronous invoke is throttled"
        first = asyncio.create_task(slots.acquire(5))
        second = asyncio.create_task(slots.acquire(5))
        await asyncio.sleep(0)  # let both tasks queue (a scheduling step, not a wait for time)
        assert slots.waiting == 2
        slots.release()
        assert await first and not second.done()
        assert not slots.try_acquire(), "the freed slot went to the waiting event, not to a newcomer"
        slots.release()
        assert await second
        slots.release()
        assert slots.in_use == 0 and slots.try_acquire()

    asyncio.run(scenario())


def test_freed_slots_go_to_waiting_sources_in_turn() -> None:
    """One source's backlog does not hold up another's event: sources are served in turn, each oldest first.
    AWS documents no order for throttled async events (invocation-async.html); localcore's choice is in
    docs/lambda-runtime.md."""

    async def scenario():
        slots = Slots(1, RESERVED_LIMIT_REASON)
        assert slots.try_acquire()
        served: list[str] = []

        async def wait(source: str, name: str) -> None:
            assert await slots.acquire(5, source)
            served.append(name)

        tasks = [asyncio.create_task(wait("flooder", f"f{i}")) for i in range(3)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(wait("victim", "v0")))
        await asyncio.sleep(0)
        assert slots.waiting == 4
        for _ in range(4):
            slots.release()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        assert served == ["f0", "v0", "f1", "f2"]

    asyncio.run(scenario())


def test_waiting_for_a_slot_gives_up_at_the_timeout() -> None:
    """An event that never gets capacity is given up at its maximum age
    (invocation-async-error-handling.html)."""

    async def scenario():
        slots = Slots(0, RESERVED_LIMIT_REASON)
        assert not slots.try_acquire()
        assert not await slots.acquire(0.01)
        assert slots.waiting == 0 and slots.in_use == 0

    asyncio.run(scenario())


def test_reservations_are_carved_out_of_the_account_limit() -> None:
    """Unreserved functions share `limit - sum(reserved)`; each reservation is its own pool; at least one slot
    must stay unreserved while a function has no reservation (AWS keeps 100, PutFunctionConcurrency)."""
    account = AccountConcurrency(10, {"a": None, "b": None, "r": 3})
    assert account.slots("a") is account.slots("b") is account.unreserved
    assert (account.unreserved.limit, account.unreserved.reason) == (7, ACCOUNT_LIMIT_REASON)
    assert (account.slots("r").limit, account.slots("r").reason) == (3, RESERVED_LIMIT_REASON)
    assert AccountConcurrency(3, {"r": 3}).unreserved.limit == 0
    with pytest.raises(InvalidFunctionConfig):
        AccountConcurrency(3, {"r": 3, "a": None})


def test_the_default_limit_comes_from_memory_and_cores() -> None:
    """A quarter of the memory in 48 MB workers, at most 32 per core, at least 8 (docs/lambda-runtime.md)."""
    limit = default_account_limit()
    assert ConcurrencyConfig().account_limit == limit >= MIN_ACCOUNT_LIMIT
    assert limit <= max(MIN_ACCOUNT_LIMIT, WORKERS_PER_CPU * (os.cpu_count() or 1))
    assert limit <= max(MIN_ACCOUNT_LIMIT, physical_memory_bytes() // 4 // (WORKER_MB * 1024**2))
    for bad in ({"account_limit": 0}, {"idle_timeout_seconds": 0}):
        with pytest.raises(InvalidFunctionConfig):
            ConcurrencyConfig(**bad)  # type: ignore[arg-type]
