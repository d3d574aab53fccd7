"""Bounded concurrency: an account limit, reserved concurrency, throttled events queued, idle workers reclaimed,
memory bounded per worker.

AWS pages: https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html (account limit, reserved
concurrency), https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html (throttled async
events go back to the queue and run later), API_Invoke.html (TooManyRequestsException, HTTP 429, Reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from clients.local_app import local_config
from clients.presign import AwsCredentials, sign_http_request
from localcore.functions import FunctionSettings
from localcore.lambda_runtime import (
    ConcurrencyConfig,
    InvalidFunctionConfig,
    LambdaRuntime,
    TooManyRequestsException,
)
from localcore.testing import RunningLocalcore
from tests.support.lambda_helpers import CODE_ROOT, LOCAL_ENV, Gate, function, run


def live_workers() -> int:
    """Worker processes of this test process, counted from /proc (independent of the runtime's own books)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid() and b"bootstrap.py" in (stat.parent / "cmdline").read_bytes():
                count += 1
    return count


def test_a_burst_of_events_never_exceeds_the_account_limit_and_every_event_completes() -> None:
    """Two functions share an account limit of 3: of 8 async events, 3 run and 5 are throttled back to the
    queue; each freed slot goes to the oldest waiting event, never more than 3 worker processes exist, and
    every event succeeds."""

    async def scenario():
        async with Gate() as gate:
            functions = [function("a", "gate.hold"), function("b", "gate.hold")]
            async with LambdaRuntime(functions, LOCAL_ENV, concurrency=ConcurrencyConfig(3)) as runtime:
                names = [f"e{i}" for i in range(8)]
                ids = [
                    await runtime.invoke_async("ab"[i % 2], gate.event(name)) for i, name in enumerate(names)
                ]
                peak = 0
                for index, name in enumerate(names):
                    await gate.wait_arrived(name)
                    if index + 3 < len(names):  # the next one waits until a slot frees
                        assert not gate.arrived[names[index + 3]].is_set()
                    peak = max(peak, await asyncio.to_thread(live_workers), runtime.workers)
                    assert runtime.account.unreserved.in_use <= 3
                    await gate.release(name)
                outcomes = [await runtime.wait_for(request_id) for request_id in ids]
                throttles = runtime.stats("a").throttles + runtime.stats("b").throttles
                return outcomes, peak, throttles

    outcomes, peak, throttles = run(scenario())
    assert [o.condition for o in outcomes] == ["Success"] * 8
    assert [o.last_result.payload["name"] for o in outcomes] == [f"e{i}" for i in range(8)]
    assert peak <= 3 and throttles == 5


def test_reserved_concurrency_is_its_own_limit_and_leaves_the_rest_shared() -> None:
    """Reserved concurrency 1 of an account limit of 3: the reserved function runs at most 1 at once
    (ReservedFunctionConcurrentInvocationLimitExceeded); the others share the remaining 2
    (ConcurrentInvocationLimitExceeded). Reserving what unreserved functions need is refused."""

    async def scenario():
        async with Gate() as gate:
            functions = [function("r", "gate.hold", reserved_concurrency=1), function("u", "gate.hold")]
            async with LambdaRuntime(functions, LOCAL_ENV, concurrency=ConcurrencyConfig(3)) as runtime:
                held = [
                    asyncio.create_task(runtime.invoke(n, gate.event(k)))
                    for n, k in (("r", "r1"), ("u", "u1"), ("u", "u2"))
                ]
                for name in ("r1", "u1", "u2"):
                    await gate.wait_arrived(name)
                refused = []
                for name in ("r", "u"):
                    with pytest.raises(TooManyRequestsException) as caught:
                        await runtime.invoke(name, gate.event("late"))
                    refused.append((caught.value.reason, caught.value.limit))
                for name in ("r1", "u1", "u2"):
                    await gate.release(name)
                results = await asyncio.gather(*held)
                return refused, [r.ok for r in results], runtime.stats("r").throttles

    refused, ok, throttles = run(scenario())
    assert refused == [
        ("ReservedFunctionConcurrentInvocationLimitExceeded", 1),
        ("ConcurrentInvocationLimitExceeded", 2),
    ]
    assert ok == [True, True, True] and throttles == 1
    with pytest.raises(InvalidFunctionConfig, match="leaves 0 of the account limit"):
        LambdaRuntime(
            [function("r", "basic.echo", reserved_concurrency=3), function("u", "basic.echo")],
            LOCAL_ENV,
            concurrency=ConcurrencyConfig(3),
        )


def test_an_idle_worker_is_reclaimed_after_the_idle_timeout() -> None:
    """On an injected clock: a worker idle for less than the idle timeout stays warm; past it the worker
    process is stopped, and the next invoke is a cold start."""
    now = [0.0]

    async def scenario():
        config = ConcurrencyConfig(idle_timeout_seconds=60)
        async with LambdaRuntime(
            [function("p", "basic.pid")], LOCAL_ENV, concurrency=config, clock=lambda: now[0]
        ) as runtime:
            pid = (await runtime.invoke("p", {})).payload["pid"]
            now[0] = 59.0
            kept = await runtime.reclaim_idle(), runtime.warm_workers("p")
            now[0] = 60.0
            reclaimed = await runtime.reclaim_idle(), runtime.warm_workers("p")
            alive = Path(f"/proc/{pid}").exists()
            again = (await runtime.invoke("p", {})).payload["pid"]
            return pid, kept, reclaimed, alive, again, runtime.stats("p")

    pid, kept, reclaimed, alive, again, stats = run(scenario())
    assert kept == (0, 1) and reclaimed == (1, 0) and not alive
    assert again != pid and stats.cold_starts == 2 and stats.workers_reclaimed == 1


def test_a_cold_start_at_the_account_limit_stops_the_least_recently_used_idle_worker() -> None:
    """Worker processes never outnumber the account limit: with a limit of 1, invoking `b` after `a` stops
    `a`'s idle worker first (AWS gives no such guarantee; locally every worker is a process on the laptop)."""

    async def scenario():
        functions = [function("a", "basic.pid"), function("b", "basic.pid")]
        async with LambdaRuntime(functions, LOCAL_ENV, concurrency=ConcurrencyConfig(1)) as runtime:
            first = (await runtime.invoke("a", {})).payload["pid"]
            second = (await runtime.invoke("b", {})).payload["pid"]
            return first, second, runtime.workers, runtime.stats("a").workers_reclaimed

    first, second, workers, reclaimed = run(scenario())
    assert first != second and workers == 1 and reclaimed == 1 and not Path(f"/proc/{first}").exists()


def test_memory_is_bounded_by_the_function_memory_size() -> None:
    """A 128 MB function cannot allocate 512 MB (RLIMIT_DATA = memory size): the invocation fails with an
    unhandled MemoryError; 16 MB works, before and after. AWS gives a function its configured memory
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html) and does not document the error past
    it: the strictest reading, the invocation fails (docs/lambda-runtime.md)."""

    async def scenario():
        async with LambdaRuntime([function("m", "basic.allocate", memory_mb=128)], LOCAL_ENV) as runtime:
            return [await runtime.invoke("m", {"mb": mb}) for mb in (16, 512, 16)]

    small, large, again = run(scenario())
    assert small.ok and again.ok and small.payload == {"allocated_mb": 16}
    assert large.function_error == "Unhandled" and large.payload["errorType"] == "MemoryError"


def test_a_synchronous_invoke_over_the_limit_gets_http_429_through_a_function_url(tmp_path: Path) -> None:
    """Function URL (synchronous invoke) at the account limit: HTTP 429, x-amzn-ErrorType
    TooManyRequestsException, `{"Message": "Rate Exceeded."}`; the held request still completes."""
    manifest = tmp_path / "functions.json"
    manifest.write_text(
        json.dumps({"attach_policy": {"handler": "handlers.gate.hold_url", "timeoutSeconds": 30}})
    )
    settings = FunctionSettings(code_root=CODE_ROOT, manifest=manifest, concurrency=ConcurrencyConfig(1))
    with (
        RunningLocalcore(local_config(functions=settings)) as stack,
        socket.create_server(("127.0.0.1", 0)) as gate,
    ):
        gate.settimeout(30)
        endpoints = stack.endpoints
        credentials = AwsCredentials(endpoints["admin_access_key_id"], endpoints["admin_secret_access_key"])

        def post(name: str) -> tuple[int, dict[str, str], bytes]:
            body = json.dumps({"port": gate.getsockname()[1], "name": name}).encode()
            url = endpoints["attach_policy_url"]
            headers = sign_http_request("POST", url, credentials, endpoints["region"], "lambda", body=body)
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as error:
                return error.code, dict(error.headers), error.read()

        first: list[tuple[int, dict[str, str], bytes]] = []
        holder = threading.Thread(target=lambda: first.append(post("first")))
        holder.start()
        held, _ = gate.accept()
        with held:
            status, headers, body = post("second")
            held.makefile().readline()
            held.sendall(b"go\n")
            holder.join(30)
    assert (status, headers["x-amzn-ErrorType"], json.loads(body)) == (
        429,
        "TooManyRequestsException",
        {"Message": "Rate Exceeded."},
    )
    assert first[0][0] == 200 and json.loads(first[0][2]) == {"name": "first", "reply": "go"}
