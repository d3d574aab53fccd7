"""Hard timeouts, crashes and concurrency: one bad invocation never affects another."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest

from localcore.lambda_runtime import LambdaRuntime, TooManyRequestsException
from tests.support.lambda_helpers import LOCAL_ENV, Gate, function, run


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_timeout_kills_the_worker_and_the_next_invocation_gets_a_fresh_one() -> None:
    """A handler past its timeout is stopped: Sandbox.Timedout, 'Task timed out after' in the log, and the
    execution environment is replaced (troubleshooting-invocation.html#troubleshooting-timeouts)."""

    async def scenario():
        config = function("hang", "basic.maybe_hang", timeout_seconds=0.5)
        async with LambdaRuntime([config], LOCAL_ENV) as runtime:
            before = await runtime.invoke("hang", {})
            timed_out = await runtime.invoke("hang", {"hang": True})
            old_pid_alive = _process_exists(before.payload["pid"])
            after = await runtime.invoke("hang", {})
            return before, timed_out, old_pid_alive, after, runtime.stats("hang")

    before, timed_out, old_pid_alive, after, stats = run(scenario())
    assert timed_out.function_error == "Unhandled" and timed_out.error_type == "Sandbox.Timedout"
    assert timed_out.payload["errorMessage"] == (
        f"RequestId: {timed_out.request_id} Error: Task timed out after 0.50 seconds"
    )
    assert "hanging" in timed_out.log_lines, "output before the kill is still in the log"
    assert timed_out.log_lines[-1].endswith(f"{timed_out.request_id} Task timed out after 0.50 seconds")
    assert not old_pid_alive, "the hung worker process was killed"
    assert after.ok and after.payload["pid"] != before.payload["pid"]
    assert stats.timeouts == 1 and stats.cold_starts == 2


def test_process_exit_and_signal_are_runtime_exit_errors() -> None:
    """sys.exit or a fatal signal in the handler ends the runtime: Runtime.ExitError with the exit status
    or signal, and the function keeps working on a new sandbox."""

    async def scenario():
        functions = [function("exit", "basic.exit_process"), function("kill", "basic.kill_self")]
        async with LambdaRuntime(functions, LOCAL_ENV) as runtime:
            exited = await runtime.invoke("exit", {"status": 3})
            killed = await runtime.invoke("kill", {})
            again = await runtime.invoke("exit", {"status": 0})
            return exited, killed, again

    exited, killed, again = run(scenario())
    assert exited.error_type == "Runtime.ExitError"
    assert exited.payload["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    assert killed.error_type == "Runtime.ExitError"
    assert killed.payload["errorMessage"].endswith("Runtime exited with error: signal: kill")
    assert again.payload["errorMessage"].endswith("exit status 0"), "exiting mid-invoke is an error"


def test_a_hung_handler_does_not_block_other_invocations() -> None:
    """Each concurrent invocation has its own execution environment (lambda-concurrency.html)."""

    async def scenario():
        functions = [function("hang", "basic.maybe_hang", timeout_seconds=5), function("echo", "basic.echo")]
        async with LambdaRuntime(functions, LOCAL_ENV) as runtime:
            hung = asyncio.create_task(runtime.invoke("hang", {"hang": True}))
            same_function = await runtime.invoke("hang", {})
            other_function = await runtime.invoke("echo", {"n": 1})
            still_hung = not hung.done()
            hung.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hung
            warm_after_cancel = runtime.warm_workers("hang")
            return same_function, other_function, still_hung, warm_after_cancel

    same_function, other_function, still_hung, warm_after_cancel = run(scenario())
    assert same_function.ok and other_function.ok
    assert still_hung
    assert warm_after_cancel == 1, "a cancelled invocation's worker is discarded, not put back warm"


def test_reserved_concurrency_throttles_sync_and_queues_async() -> None:
    """At the reserved-concurrency limit a synchronous invoke gets TooManyRequestsException (429) and an
    asynchronous event waits in the queue until a slot frees
    (lambda-concurrency.html, invocation-async.html)."""

    async def scenario():
        config = function("gate", "gate.hold", reserved_concurrency=1, timeout_seconds=20)
        async with Gate() as gate, LambdaRuntime([config], LOCAL_ENV) as runtime:
            first = asyncio.create_task(runtime.invoke("gate", gate.event("first")))
            await gate.wait_arrived("first")
            with pytest.raises(TooManyRequestsException) as throttled:
                await runtime.invoke("gate", gate.event("second"))
            queued = await runtime.invoke_async("gate", gate.event("queued"))
            await gate.release("first")
            first_result = await first
            await gate.wait_arrived("queued")
            await gate.release("queued")
            outcome = await runtime.wait_for(queued)
            return throttled.value, first_result, outcome, runtime.stats("gate")

    throttled, first_result, outcome, stats = run(scenario())
    assert throttled.code == "TooManyRequestsException" and throttled.limit == 1
    assert throttled.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert first_result.payload == {"name": "first", "reply": "go"}
    assert outcome.succeeded and outcome.attempts == 1
    assert outcome.last_result is not None and outcome.last_result.payload["name"] == "queued"
    assert stats.throttles == 2 and stats.workers_started == 1


def test_concurrent_invocations_run_in_parallel_workers_up_to_the_limit() -> None:
    """Two concurrent invocations under a limit of 2 run at the same time in two environments."""

    async def scenario():
        config = function("gate", "gate.hold", reserved_concurrency=2, timeout_seconds=20)
        async with Gate() as gate, LambdaRuntime([config], LOCAL_ENV) as runtime:
            tasks = [asyncio.create_task(runtime.invoke("gate", gate.event(name))) for name in ("a", "b")]
            await gate.wait_arrived("a")
            await gate.wait_arrived("b")
            await gate.release("b")
            await gate.release("a")
            results = await asyncio.gather(*tasks)
            return results, runtime.stats("gate"), runtime.warm_workers("gate")

    results, stats, warm = run(scenario())
    assert [r.payload["name"] for r in results] == ["a", "b"]
    assert stats.workers_started == 2 and warm == 2 and stats.throttles == 0


def test_an_unusable_response_fails_the_invocation_and_the_async_event_still_ends() -> None:
    """A reply the runtime cannot take (a frame over its limit) is a function error, the sandbox is replaced,
    and an async event still ends — retried, then RetriesExhausted — instead of staying pending."""

    async def scenario():
        config = function(
            "big", "basic.corrupt_channel", timeout_seconds=10, retry_delays_seconds=(0.01, 0.01)
        )
        async with LambdaRuntime([config], LOCAL_ENV) as runtime:
            sync = await runtime.invoke("big", {})
            request_id = await runtime.invoke_async("big", {})
            outcome = await asyncio.wait_for(runtime.wait_for(request_id), 60)
            return sync, outcome

    sync, outcome = run(scenario())
    assert sync.function_error == "Unhandled" and sync.error_type == "Runtime.InvalidResponse"
    assert "exceeds" in sync.payload["errorMessage"]
    assert outcome.condition == "RetriesExhausted" and outcome.attempts == 3
