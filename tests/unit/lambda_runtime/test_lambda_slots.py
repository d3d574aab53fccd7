"""Concurrency slots: sync takes or throttles, async waits in order; reservations carved out of the account
limit (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)."""

from __future__ import annotations

import asyncio

import pytest

from localcore.lambda_runtime import ConcurrencyConfig, InvalidFunctionConfig
from localcore.lambda_runtime.concurrency import (
    ACCOUNT_LIMIT_REASON,
    RESERVED_LIMIT_REASON,
    AccountConcurrency,
    Slots,
    default_account_limit,
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


def test_the_default_limit_is_a_few_workers_per_core() -> None:
    assert default_account_limit() >= 4 and ConcurrencyConfig().account_limit == default_account_limit()
    for bad in ({"account_limit": 0}, {"idle_timeout_seconds": 0}):
        with pytest.raises(InvalidFunctionConfig):
            ConcurrencyConfig(**bad)  # type: ignore[arg-type]
