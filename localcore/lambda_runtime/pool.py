"""The workers of one function: warm reuse, idle reclaim, one invocation end to end."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localcore.lambda_runtime.concurrency import Slots
from localcore.lambda_runtime.config import FunctionConfig
from localcore.lambda_runtime.environment import RUNTIME_NAME, worker_environment
from localcore.lambda_runtime.logs import FunctionLog, end_lines, start_line
from localcore.lambda_runtime.results import FunctionStats, InvocationResult
from localcore.lambda_runtime.worker import Outcome, Worker

UNHANDLED = "Unhandled"


@dataclass
class _Idle:
    worker: Worker
    since: float


class FunctionPool:
    """Warm workers of one function; `slots` bounds how many invocations run at once."""

    def __init__(
        self,
        config: FunctionConfig,
        *,
        slots: Slots,
        function_arn: str,
        base_environment: dict[str, str],
        region: str,
        python: str,
        init_timeout: float,
        log: FunctionLog,
        make_room: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.slots = slots
        self.function_arn = function_arn
        self._base_environment = base_environment
        self._region = region
        self._python = python
        self._init_timeout = init_timeout
        self._make_room = make_room
        self._clock = clock
        self.log = log
        self.stats = FunctionStats()
        self._idle: list[_Idle] = []  # least recently used first
        self._busy: set[Worker] = set()
        self._starting = 0

    @property
    def busy(self) -> int:
        return len(self._busy)

    @property
    def warm(self) -> int:
        return len(self._idle)

    @property
    def busy_pids(self) -> list[int]:
        return [worker.pid for worker in self._busy]

    @property
    def workers(self) -> int:
        """Every worker process of this function: starting, busy or idle."""
        return self._starting + len(self._busy) + len(self._idle)

    def oldest_idle(self) -> float | None:
        """When the least recently used idle worker went idle (None: no idle worker)."""
        return self._idle[0].since if self._idle else None

    async def reclaim(self, *, idle_for: float | None = None) -> int:
        """Stop idle workers: those idle for at least `idle_for` seconds, or (None) the least recently used."""
        if idle_for is None:
            chosen = self._idle[:1]
        else:
            cutoff = self._clock() - idle_for
            chosen = [idle for idle in self._idle if idle.since <= cutoff]
        for idle in chosen:
            self._idle.remove(idle)
        await asyncio.gather(*(idle.worker.close() for idle in chosen))
        self.stats.workers_reclaimed += len(chosen)
        return len(chosen)

    # -- execution ---------------------------------------------------------------------------------

    async def execute(self, request_id: str, event: Any) -> InvocationResult:
        """Run one invocation on a warm worker (or a new one); the caller holds a slot."""
        self.stats.invocations += 1
        init: Outcome | None = None
        worker = await self._take_warm_worker()
        if worker is None:
            worker, init = await self._cold_start(request_id)
        self._busy.add(worker)
        self.log.emit([start_line(request_id)])
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
                self._idle.append(_Idle(worker, self._clock()))
            else:
                await worker.close()
        return self._report(request_id, outcome, init)

    async def close(self) -> None:
        workers = [*(idle.worker for idle in self._idle), *self._busy]
        self._idle.clear()
        await asyncio.gather(*(worker.close() for worker in workers))

    async def _take_warm_worker(self) -> Worker | None:
        """The most recently used idle worker that is still alive; dead ones are dropped."""
        while self._idle:
            worker = self._idle.pop().worker
            if worker.alive:
                return worker
            await worker.close()
        return None

    async def _cold_start(self, request_id: str) -> tuple[Worker, Outcome]:
        self.stats.cold_starts += 1
        self.stats.workers_started += 1
        self._starting += 1
        try:
            await self._make_room()
            stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
            env = worker_environment(
                self.config, self._base_environment, region=self._region, log_stream_name=stream
            )
            self.log.emit([f"INIT_START Runtime Version: {RUNTIME_NAME}"])
            worker = await Worker.spawn(self._python, env, self.config.code_root, stream, self.log.output)
            try:
                init = await worker.wait_ready(self._init_timeout, request_id)
            except asyncio.CancelledError:
                await worker.close()
                raise
        finally:
            self._starting -= 1
        return worker, init

    def _report(self, request_id: str, outcome: Outcome, init: Outcome | None) -> InvocationResult:
        if outcome.failed:
            self.stats.errors += 1
        if outcome.kind == "timeout":
            self.stats.timeouts += 1
        init_ms = init.duration_ms if init is not None else None
        end = end_lines(
            request_id=request_id,
            duration_ms=outcome.duration_ms,
            memory_mb=self.config.memory_mb,
            max_memory_mb=outcome.max_memory_mb,
            init_duration_ms=init_ms,
            timeout_seconds=self.config.timeout_seconds if outcome.kind == "timeout" else None,
        )
        self.log.emit(end)  # START and the handler's output went out as they happened
        lines = (start_line(request_id), *outcome.log_lines, *end)
        if outcome.failed:
            self.log.failed(request_id, outcome.payload)
        return InvocationResult(
            request_id=request_id,
            function_name=self.config.name,
            payload=outcome.payload,
            function_error=UNHANDLED if outcome.failed else None,
            duration_ms=outcome.duration_ms,
            log_lines=lines,
            init_duration_ms=init_ms,
        )
