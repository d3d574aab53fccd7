"""Concurrency slots of one function: sync takes or throttles, async waits in order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from localcore.lambda_runtime import FunctionConfig
from localcore.lambda_runtime.logs import FunctionLog
from localcore.lambda_runtime.pool import FunctionPool


def _pool(tmp_path: Path, limit: int | None) -> FunctionPool:
    config = FunctionConfig("f", "m.f", tmp_path, reserved_concurrency=limit)
    return FunctionPool(
        config,
        function_arn="arn",
        base_environment={},
        region="us-east-1",
        python="python3",
        init_timeout=1,
        log=FunctionLog("f", 10),
    )


def test_reserved_concurrency_limits_slots_and_hands_freed_slots_to_waiters_in_order(tmp_path: Path) -> None:
    """Reserved concurrency caps concurrent executions; queued async events run as capacity frees
    (lambda-concurrency.html)."""

    async def scenario():
        pool = _pool(tmp_path, 1)
        assert pool.try_acquire()
        assert not pool.try_acquire(), "a second synchronous invoke is throttled"
        first = asyncio.create_task(pool.acquire(5))
        second = asyncio.create_task(pool.acquire(5))
        await asyncio.sleep(0)  # let both tasks queue (a scheduling step, not a wait for time)
        pool.release()
        assert await first and not second.done()
        assert not pool.try_acquire(), "the freed slot went to the waiting event, not to a newcomer"
        pool.release()
        assert await second
        pool.release()
        assert pool.try_acquire()

    asyncio.run(scenario())


def test_waiting_for_a_slot_gives_up_at_the_timeout(tmp_path: Path) -> None:
    """An event that never gets capacity is given up at its maximum age
    (invocation-async-error-handling.html)."""

    async def scenario():
        pool = _pool(tmp_path, 0)
        assert not pool.try_acquire()
        assert not await pool.acquire(0.01)
        assert pool._waiters == type(pool._waiters)()

    asyncio.run(scenario())


def test_without_reserved_concurrency_there_is_no_local_limit(tmp_path: Path) -> None:
    """Unreserved functions share the account pool; locally that is unlimited."""
    pool = _pool(tmp_path, None)
    assert all(pool.try_acquire() for _ in range(100))
