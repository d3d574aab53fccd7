"""The workers of one function: warm reuse, concurrency slots, one invocation end to end."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from localcore.lambda_runtime.config import FunctionConfig
from localcore.lambda_runtime.environment import RUNTIME_NAME, worker_environment
from localcore.lambda_runtime.logs import FunctionLog, invocation_lines
from localcore.lambda_runtime.results import FunctionStats, InvocationResult
from localcore.lambda_runtime.worker import Outcome, Worker

UNHANDLED = "Unhandled"


class FunctionPool:
    """Warm workers of one function, at most `reserved_concurrency` of them busy at once."""

    def __init__(
        self,
        config: FunctionConfig,
        *,
        function_arn: str,
        base_environment: dict[str, str],
        region: str,
        python: str,
        init_timeout: float,
        log: FunctionLog,
    ) -> None:
        self.config = config
        self.function_arn = function_arn
        self._base_environment = base_environment
        self._region = region
        self._python = python
        self._init_timeout = init_timeout
        self.log = log
        self.stats = FunctionStats()
        self._limit = config.reserved_concurrency
        self._in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()

    # -- concurrency -------------------------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Take a slot without waiting (synchronous invokes); False means throttled."""
        if self._limit is not None and self._in_use >= self._limit:
            return False
        self._in_use += 1
        return True

    async def acquire(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a slot (asynchronous events wait in the queue, in order)."""
        if self.try_acquire():
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            if waiter.done():
                return True
            self._waiters.remove(waiter)
            waiter.cancel()
            return False
        except asyncio.CancelledError:
            if waiter.done():
                self.release()
            else:
                self._waiters.remove(waiter)
            raise
        return True

    def release(self) -> None:
        """Free a slot, handing it straight to the oldest waiting event if there is one."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._in_use -= 1

    @property
    def busy(self) -> int:
        return len(self._busy)

    @property
    def warm(self) -> int:
        return len(self._idle)

    # -- execution ---------------------------------------------------------------------------------

    async def execute(self, request_id: str, event: Any) -> InvocationResult:
        """Run one invocation on a warm worker (or a new one); the caller holds a slot."""
        self.stats.invocations += 1
        init: Outcome | None = None
        worker = await self._take_warm_worker()
        if worker is None:
            worker, init = await self._cold_start(request_id)
        self._busy.add(worker)
        try:
            if init is not None and init.failed:
                outcome = init
                outcome.log_lines = []
                if isinstance(outcome.payload, dict) and "requestId" in outcome.payload:
                    outcome.payload["requestId"] = request_id
            else:
                outcome = await worker.invoke(
                    request_id, event, self.function_arn, self.config.timeout_seconds
                )
        finally:
            self._busy.discard(worker)
            if worker.healthy:
                self._idle.append(worker)
            else:
                await worker.close()
        return self._report(request_id, outcome, init)

    async def close(self) -> None:
        workers = [*self._idle, *self._busy]
        self._idle.clear()
        await asyncio.gather(*(worker.close() for worker in workers))

    async def _take_warm_worker(self) -> Worker | None:
        """The most recently used idle worker that is still alive; dead ones are dropped."""
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
            await worker.close()
        return None

    async def _cold_start(self, request_id: str) -> tuple[Worker, Outcome]:
        self.stats.cold_starts += 1
        self.stats.workers_started += 1
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        env = worker_environment(
            self.config, self._base_environment, region=self._region, log_stream_name=stream
        )
        worker = await Worker.spawn(self._python, env, self.config.code_root, stream)
        try:
            init = await worker.wait_ready(self._init_timeout, request_id)
        except asyncio.CancelledError:
            await worker.close()
            raise
        self.log.emit([f"INIT_START Runtime Version: {RUNTIME_NAME}", *init.log_lines])
        return worker, init

    def _report(self, request_id: str, outcome: Outcome, init: Outcome | None) -> InvocationResult:
        if outcome.failed:
            self.stats.errors += 1
        if outcome.kind == "timeout":
            self.stats.timeouts += 1
        init_ms = init.duration_ms if init is not None else None
        lines = invocation_lines(
            request_id=request_id,
            output=outcome.log_lines,
            duration_ms=outcome.duration_ms,
            memory_mb=self.config.memory_mb,
            max_memory_mb=outcome.max_memory_mb,
            init_duration_ms=init_ms,
            timeout_seconds=self.config.timeout_seconds if outcome.kind == "timeout" else None,
        )
        self.log.emit(lines)
        if outcome.failed:
            self.log.failed(request_id, outcome.payload)
        return InvocationResult(
            request_id=request_id,
            function_name=self.config.name,
            payload=outcome.payload,
            function_error=UNHANDLED if outcome.failed else None,
            duration_ms=outcome.duration_ms,
            log_lines=tuple(lines),
            init_duration_ms=init_ms,
        )
