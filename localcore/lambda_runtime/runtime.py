"""`LambdaRuntime`: Invoke (RequestResponse and Event) on local worker processes, like AWS Lambda, within an
account concurrency limit (`concurrency.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from localcore.lambda_runtime.concurrency import AccountConcurrency, ConcurrencyConfig
from localcore.lambda_runtime.config import Destination, FunctionConfig
from localcore.lambda_runtime.errors import (
    InvalidFunctionConfig,
    InvalidRequestContentException,
    LambdaRuntimeError,
    ResourceNotFoundException,
    RuntimeNotRunning,
    TooManyRequestsException,
)
from localcore.lambda_runtime.logs import LOGGER, FunctionLog, LogListener
from localcore.lambda_runtime.pool import FunctionPool
from localcore.lambda_runtime.records import destination_record
from localcore.lambda_runtime.results import AsyncOutcome, FunctionStats, InvocationResult

DEFAULT_ACCOUNT_ID = "000000000000"
INIT_TIMEOUT_SECONDS = 10.0
"""Lambda gives the init phase (module import) 10 seconds of its own."""
OUTCOME_HISTORY = 1000
"""How many finished async outcomes `wait_for` can still look up (each holds the event, the result and its log
lines: the runtime's memory must not grow with the number of invocations)."""


log = logging.getLogger("localcore.lambda")


class LambdaRuntime:
    """Runs the configured functions' handlers in worker subprocesses.

    `base_environment` is what localcore sets for every function: local credentials and
    `AWS_ENDPOINT_URL_*` variables, so boto3 inside handlers talks to localcore. `concurrency` bounds how many
    invocations run at once (and so how many worker processes exist) and when idle workers are reclaimed.
    """

    def __init__(
        self,
        functions: Iterable[FunctionConfig],
        base_environment: Mapping[str, str],
        *,
        region: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        python: str = sys.executable,
        init_timeout_seconds: float = INIT_TIMEOUT_SECONDS,
        log_capacity: int = 1000,
        outcome_history: int = OUTCOME_HISTORY,
        concurrency: ConcurrencyConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        log_listener: LogListener | None = None,
    ) -> None:
        self._configs: dict[str, FunctionConfig] = {}
        for config in functions:
            if config.name in self._configs:
                raise InvalidFunctionConfig(
                    f"Function {config.name} is defined twice", function_name=config.name, field="name"
                )
            self._configs[config.name] = config
        self._base_environment = dict(base_environment)
        self.region = (
            region
            or self._base_environment.get("AWS_REGION")
            or self._base_environment.get("AWS_DEFAULT_REGION")
        ) or "us-east-1"
        self.account_id = account_id
        self._python = python
        self._init_timeout = init_timeout_seconds
        self._log_capacity = log_capacity
        self._outcome_history = outcome_history
        self.concurrency = concurrency or ConcurrencyConfig()
        self.account = AccountConcurrency(
            self.concurrency.account_limit,
            {name: config.reserved_concurrency for name, config in self._configs.items()},
        )
        self._clock = clock
        self._log_listener = log_listener  # every function's log lines, as they happen
        self._reaper: asyncio.Task[None] | None = None
        self._pools: dict[str, FunctionPool] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: dict[str, asyncio.Future[AsyncOutcome]] = {}
        self._event_functions: dict[str, str] = {}
        self._state = "created"

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check destinations and get ready; workers start lazily on first invoke (cold start)."""
        if self._state != "created":
            raise RuntimeNotRunning(self._state)
        for config in self._configs.values():
            for destination in (config.on_failure, config.on_success):
                if isinstance(destination, str) and destination not in self._configs:
                    raise InvalidFunctionConfig(
                        f"Destination function {destination} of {config.name} does not exist",
                        function_name=config.name,
                        field="on_failure" if destination == config.on_failure else "on_success",
                    )
            self._pools[config.name] = FunctionPool(
                config,
                slots=self.account.slots(config.name),
                make_room=self._make_room,
                clock=self._clock,
                function_arn=self.function_arn(config.name),
                base_environment=self._base_environment,
                region=self.region,
                python=self._python,
                init_timeout=self._init_timeout,
                log=FunctionLog(config.name, self._log_capacity, self._log_listener),
            )
        self._reaper = asyncio.create_task(self._reclaim_idle_forever(), name="lambda-idle-reaper")
        self._state = "running"

    async def close(self) -> None:
        """Cancel queued async events (their outcome becomes `Cancelled`) and kill every worker."""
        if self._state == "closed":
            return
        self._state = "closing"
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for request_id, outcome in self._outcomes.items():
            if not outcome.done():  # cancelled before it ever ran
                name = self._event_functions[request_id]
                outcome.set_result(AsyncOutcome(request_id, name, "Cancelled", 0, None, None))
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))
        self._state = "closed"

    async def __aenter__(self) -> LambdaRuntime:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- introspection -----------------------------------------------------------------------------

    @property
    def function_names(self) -> list[str]:
        return list(self._configs)

    def config(self, name: str) -> FunctionConfig:
        if name not in self._configs:
            raise ResourceNotFoundException(name, self._arn(name))
        return self._configs[name]

    def function_arn(self, name: str) -> str:
        return self._arn(self.config(name).name)

    def _arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def stats(self, name: str) -> FunctionStats:
        return self._pool(name).stats

    def recent_logs(self, name: str, count: int | None = None) -> list[str]:
        """The last log lines of a function (START, output, END, REPORT, ...)."""
        return self._pool(name).log.recent(count)

    def warm_workers(self, name: str) -> int:
        return self._pool(name).warm

    def busy_workers(self, name: str) -> list[int]:
        """The process ids of the workers running an invocation of `name` now (fault tests kill one)."""
        return self._pool(name).busy_pids

    @property
    def workers(self) -> int:
        """Worker processes of every function (starting, busy or idle); at most the account limit."""
        return sum(pool.workers for pool in self._pools.values())

    async def reclaim_idle(self) -> int:
        """Stop the workers idle for `idle_timeout_seconds` or more (run periodically); how many stopped."""
        timeout = self.concurrency.idle_timeout_seconds
        counts = await asyncio.gather(*(pool.reclaim(idle_for=timeout) for pool in self._pools.values()))
        return sum(counts)

    # -- invoke ------------------------------------------------------------------------------------

    async def invoke(self, name: str, event: Any) -> InvocationResult:
        """InvocationType=RequestResponse. Function errors come back in the result, not as exceptions.

        Raises `ResourceNotFoundException`, `TooManyRequestsException` (at the concurrency limit) or
        `InvalidRequestContentException`.
        """
        pool = self._pool(name)
        _check_json(event)
        slots = pool.slots
        if not slots.try_acquire():
            pool.stats.throttles += 1
            raise TooManyRequestsException(name, reason=slots.reason, limit=slots.limit)
        try:
            return await pool.execute(str(uuid.uuid4()), event)
        finally:
            slots.release()

    async def invoke_async(self, name: str, event: Any, source: str = "") -> str:
        """InvocationType=Event: queue the event and return its request id at once (HTTP 202). `source` (who
        caused the event, e.g. the publishing MQTT identity) decides its turn when throttled (`Slots`)."""
        pool = self._pool(name)
        _check_json(event)
        request_id = str(uuid.uuid4())
        outcome: asyncio.Future[AsyncOutcome] = asyncio.get_running_loop().create_future()
        self._forget_old_outcomes()
        self._outcomes[request_id] = outcome
        self._event_functions[request_id] = name
        pool.stats.async_events += 1
        task = asyncio.create_task(
            self._run_event(pool, request_id, event, outcome, source), name=f"lambda-{request_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return request_id

    async def wait_for(self, request_id: str) -> AsyncOutcome:
        """Wait until an async event has succeeded or failed for good (after its destination ran)."""
        if request_id not in self._outcomes:
            raise LambdaRuntimeError(f"Unknown async request {request_id}")
        return await asyncio.shield(self._outcomes[request_id])

    async def wait_idle(self) -> None:
        """Wait until no async event is queued, running or waiting to retry (destinations included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- internals ---------------------------------------------------------------------------------

    def _forget_old_outcomes(self) -> None:
        """Keep at most `outcome_history` outcomes besides the unfinished ones, forgetting the oldest finished
        first (dicts keep insertion order; only the oldest entries are looked at)."""
        excess = len(self._outcomes) - self._outcome_history
        if excess <= 0:
            return
        for request_id in list(itertools.islice(self._outcomes, excess + self._pending_outcomes())):
            if excess <= 0:
                return
            if self._outcomes[request_id].done():
                del self._outcomes[request_id]
                del self._event_functions[request_id]
                excess -= 1

    def _pending_outcomes(self) -> int:
        return len(self._tasks)

    async def _make_room(self) -> None:
        """Before a cold start: stop least recently used idle workers (of any function) while the processes
        would exceed the account limit, so memory stays bounded by the limit."""
        while self.workers > self.account.limit:
            idle = [
                (since, pool) for pool in self._pools.values() if (since := pool.oldest_idle()) is not None
            ]
            if not idle:
                return
            await min(idle, key=lambda item: item[0])[1].reclaim()

    async def _reclaim_idle_forever(self) -> None:
        interval = min(self.concurrency.idle_timeout_seconds / 2, 30.0)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reclaim_idle()
            except Exception:  # boundary: a failure to stop one worker must not end the reaper
                log.exception("reclaiming idle Lambda workers failed")

    def _pool(self, name: str) -> FunctionPool:
        if self._state != "running":
            raise RuntimeNotRunning(self._state)
        if name not in self._pools:
            raise ResourceNotFoundException(name, self._arn(name))
        return self._pools[name]

    async def _run_event(
        self,
        pool: FunctionPool,
        request_id: str,
        event: Any,
        outcome: asyncio.Future[AsyncOutcome],
        source: str,
    ) -> None:
        config = pool.config
        loop = asyncio.get_running_loop()
        enqueued = loop.time()
        attempts = 0
        last: InvocationResult | None = None
        condition = "EventAgeExceeded"
        try:
            while (age_left := config.maximum_event_age_seconds - (loop.time() - enqueued)) > 0:
                if not pool.slots.try_acquire():
                    pool.stats.throttles += 1  # back to the queue: it runs when a slot frees, in its turn
                    if not await pool.slots.acquire(age_left, source):
                        break
                try:
                    last = await pool.execute(request_id, event)
                finally:
                    pool.slots.release()
                attempts += 1
                if last.ok:
                    condition = "Success"
                    break
                if attempts > config.max_retry_attempts:
                    condition = "RetriesExhausted"
                    break
                pool.stats.async_retries += 1
                remaining = config.maximum_event_age_seconds - (loop.time() - enqueued)
                await asyncio.sleep(max(0.0, min(config.retry_delay(attempts), remaining)))
        except asyncio.CancelledError:
            outcome.set_result(AsyncOutcome(request_id, config.name, "Cancelled", attempts, last, None))
            raise
        except Exception:  # boundary: a runtime failure must still end the event, never leave it pending
            log.exception("async event %s of %s failed inside the runtime", request_id, config.name)
            outcome.set_result(
                AsyncOutcome(request_id, config.name, "RetriesExhausted", attempts, last, None)
            )
            return
        destination = config.on_success if condition == "Success" else config.on_failure
        record = None
        if destination is not None:
            record = destination_record(
                request_id=request_id,
                function_arn=pool.function_arn,
                condition=condition,
                invoke_count=attempts,
                request_payload=event,
                response_payload=last.payload if last is not None else None,
                function_error=last.function_error if last is not None else None,
                responded=last is not None,
            )
            await self._deliver(pool, destination, record)
        outcome.set_result(AsyncOutcome(request_id, config.name, condition, attempts, last, record))

    async def _deliver(self, pool: FunctionPool, destination: Destination, record: dict[str, Any]) -> None:
        try:
            if isinstance(destination, str):
                await self.invoke_async(destination, record)
            else:
                result = destination(record)
                if inspect.isawaitable(result):
                    await result
        except Exception:  # noqa: BLE001 - destination boundary: a failing destination loses one record
            pool.stats.destination_failures += 1
            LOGGER.exception("Destination of %s failed for %s", pool.config.name, record["requestContext"])
            return
        pool.stats.destination_deliveries += 1


def _check_json(event: Any) -> None:
    try:
        json.dumps(event)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestContentException(f"Could not serialise the event as JSON: {exc}") from exc
