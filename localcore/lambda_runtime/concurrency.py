"""Lambda's concurrency model, locally: an account limit, reserved concurrency carved out of it, and a queue of
throttled asynchronous events.

AWS (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html and
https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html): the functions without reserved
concurrency share the account's unreserved concurrency; a function with reserved concurrency N gets N that no
other function may use, and never runs more than N at once. A synchronous invoke beyond the limit fails with
`TooManyRequestsException` (HTTP 429, Reason `ConcurrentInvocationLimitExceeded` or
`ReservedFunctionConcurrentInvocationLimitExceeded`: API_Invoke.html); a throttled asynchronous event goes back
to the queue and runs later (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from localcore.lambda_runtime.errors import InvalidFunctionConfig

WORKER_MB = 48
"""Memory of one execution environment: a warm prompt worker's proportional set size is about 40 MB (Python,
boto3, botocore's service models, Powertools: `python -m bench.memory`), plus headroom."""
MEMORY_SHARE = 0.25
"""The workers may take at most this share of the machine's memory by default."""
WORKERS_PER_CPU = 32
"""A streaming invocation mostly waits for the model (a 150-token answer costs its worker well under a tenth of
its 1.5 s in CPU), so many run per core; more than this only slows every stream."""
MIN_ACCOUNT_LIMIT = 8
PER_SOURCE_LIMIT = 2
"""Measured with `python -m bench.flood` (docs/benchmarks.md, "Flood"): one user's 500 prompts/s held another's
time to first token at 1.8-1.9x idle with 1 or 2, 2.8-3.2x with 4, 5x with 8, 5.6x with 16 and 40x with no
limit (64 slots); with 1 the flood's backlog took 33 s to drain, with 2 13 s (before refusals became cheap).
2 is also the prompt service's own cap on one identity's concurrent streams (`MAX_STREAMS_PER_IDENTITY`), so
it never holds back a chat user's own answers."""
ACCOUNT_LIMIT_REASON = "ConcurrentInvocationLimitExceeded"
RESERVED_LIMIT_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"


def physical_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # not a POSIX system that reports it: assume a small laptop
        return 8 * 1024**3


def default_account_limit() -> int:
    """`MEMORY_SHARE` of the memory in `WORKER_MB` workers, at most `WORKERS_PER_CPU` per core, at least
    `MIN_ACCOUNT_LIMIT`: a stream holds its worker for the whole answer (as on AWS), so the limit is how many
    answers stream at once; past it, answers queue (docs/lambda-runtime.md)."""
    by_memory = int(physical_memory_bytes() * MEMORY_SHARE) // (WORKER_MB * 1024**2)
    return max(MIN_ACCOUNT_LIMIT, min(by_memory, WORKERS_PER_CPU * (os.cpu_count() or 1)))


@dataclass(frozen=True)
class ConcurrencyConfig:
    """The local account's limits. AWS's default account limit is 1,000 (adjustable); localcore's default is
    bounded by the machine's memory and cores (`default_account_limit`), because each execution environment
    here is a real Python process."""

    account_limit: int = field(default_factory=default_account_limit)
    idle_timeout_seconds: float = 300.0
    """Idle execution environments are reclaimed after this long (AWS does not document when it does)."""
    per_source_limit: int = PER_SOURCE_LIMIT
    """One source (the identity whose publishes trigger the events) runs at most this many asynchronous events at
    once: a laptop's few cores are not one user's to fill. localcore only: AWS has no such limit (its account
    limit is 1,000); the events beyond it wait, and run, as throttled events do."""

    def __post_init__(self) -> None:
        if self.account_limit < 1:
            raise InvalidFunctionConfig(
                "The account concurrency limit must be 1 or more", field="account_limit"
            )
        if self.per_source_limit < 1:
            raise InvalidFunctionConfig(
                "The per-source concurrency limit must be 1 or more", field="per_source_limit"
            )
        if self.idle_timeout_seconds <= 0:
            raise InvalidFunctionConfig(
                "The idle timeout must be above 0 seconds", field="idle_timeout_seconds"
            )


class Slots:
    """Concurrency slots. Throttled asynchronous events wait per source (who published what triggered them);
    freed slots go to the sources in turn, each source's events oldest first, and one source runs at most
    `per_source` events at once (synchronous invokes and events without a source are not limited this way).

    AWS documents no order for a function's throttled events, and with its account limit of 1,000 one user's
    burst does not hold up another's. Locally the limit is a laptop's, so a flood from one identity would put
    every other user's events behind its whole backlog if the queue were one line, and would fill every slot
    (docs/lambda-runtime.md, "What differs from AWS")."""

    def __init__(self, limit: int, reason: str, per_source: int | None = None) -> None:
        self.limit = limit
        self.reason = reason
        """The `Reason` of the `TooManyRequestsException` a synchronous invoke gets at this limit."""
        self.per_source = limit if per_source is None else max(1, min(per_source, limit))
        self.in_use = 0
        self._running: dict[str, int] = {}
        self._waiters: dict[str, deque[asyncio.Future[None]]] = {}
        """Per source, oldest first; a source is a key only while it has waiters, in the order it is served."""

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for queue in self._waiters.values() for waiter in queue)

    def try_acquire(self, source: str = "") -> bool:
        """Take a slot without waiting (synchronous invokes); False means throttled."""
        if self.in_use >= self.limit or (source in self._waiters) or not self._below_its_limit(source):
            return False
        self._take(source)
        return True

    async def acquire(self, timeout: float, source: str = "") -> bool:
        """Wait up to `timeout` seconds for a slot, behind the events of `source` that were throttled earlier
        and one turn of every other waiting source."""
        if self.try_acquire(source):
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(source, deque()).append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            if waiter.done():
                return True
            self._forget(source, waiter)
            waiter.cancel()
            return False
        except asyncio.CancelledError:
            if waiter.done():
                self.release(source)
            else:
                self._forget(source, waiter)
            raise
        return True

    def release(self, source: str = "") -> None:
        """Free `source`'s slot and hand free slots to waiting sources in turn (each below its limit)."""
        self.in_use -= 1
        running = self._running[source] - 1
        if running:
            self._running[source] = running
        else:
            del self._running[source]
        self._hand_out()

    def _hand_out(self) -> None:
        for source in list(self._waiters):
            if self.in_use >= self.limit:
                return
            if not self._below_its_limit(source):
                continue
            queue = self._waiters.pop(source)
            while queue and queue[0].done():  # cancelled meanwhile
                queue.popleft()
            if not queue:
                continue
            queue.popleft().set_result(None)
            self._take(source)
            if queue:  # the source goes to the back of the turn
                self._waiters[source] = queue

    def _below_its_limit(self, source: str) -> bool:
        return not source or self._running.get(source, 0) < self.per_source

    def _take(self, source: str) -> None:
        self.in_use += 1
        self._running[source] = self._running.get(source, 0) + 1

    def _forget(self, source: str, waiter: asyncio.Future[None]) -> None:
        queue = self._waiters.get(source)
        if queue is not None:
            queue.remove(waiter)
            if not queue:
                del self._waiters[source]


class AccountConcurrency:
    """The slots of every function: its reservation, or the account's shared unreserved pool."""

    def __init__(
        self, limit: int, reservations: Mapping[str, int | None], per_source: int | None = None
    ) -> None:
        reserved = sum(r for r in reservations.values() if r is not None)
        unreserved = limit - reserved
        needed = 1 if any(r is None for r in reservations.values()) else 0
        if unreserved < needed:
            # AWS keeps at least 100 unreserved; locally at least one, so unreserved functions can run.
            raise InvalidFunctionConfig(
                f"Reserved concurrency ({reserved}) leaves {unreserved} of the account limit ({limit}) "
                "for the functions without a reservation",
                field="reserved_concurrency",
            )
        self.limit = limit
        self.unreserved = Slots(unreserved, ACCOUNT_LIMIT_REASON, per_source)
        self._slots = {
            name: self.unreserved if r is None else Slots(r, RESERVED_LIMIT_REASON, per_source)
            for name, r in reservations.items()
        }

    def slots(self, name: str) -> Slots:
        return self._slots[name]
