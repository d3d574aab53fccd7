"""The lease of the invocation answering a rid: renewed by heartbeats, and a reservation of event numbers.

One write per heartbeat (every `CANCEL_POLL_MS`) renews the lease, records how far the stream got and reads
the cancel flag (`StateStore.heartbeat`). The publisher may publish event `seq` only while `seq <= seq_limit`
as recorded: the record always bounds what was published, so an attempt that finds the lease run out knows
that nothing beyond `seq_limit` exists (`iotstream_lambdas.streaming.takeover`). The limit runs `reserve` events ahead of the
stream, far more than a heartbeat interval needs at the publisher's rate cap; a publisher that reaches it
anyway renews the lease itself before going on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from iotstream_lambdas.streaming.errors import PublishError
from iotstream_lambdas.streaming.state import Claim, Heartbeat, StateStore

LEASE_MIN_MS = 5_000


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """How often the owner renews its lease, and how far ahead it reserves event numbers."""

    heartbeat_s: float = 1.0
    """`CANCEL_POLL_MS`: the cancel flag is read by the same write (0 = at every model chunk)."""
    reserve: int = 32

    @property
    def lease_ms(self) -> int:
        """A lease outlives five missed heartbeats (and never less than 5 s): a stream that is slow for a
        while under load is not taken for dead."""
        return max(LEASE_MIN_MS, int(self.heartbeat_s * 5_000))


class RequestLease:
    """The claim of one rid by this invocation (thread-safe: the controller heartbeats, the publisher
    reserves)."""

    def __init__(
        self,
        store: StateStore,
        identity_id: str,
        rid: str,
        claim: Claim,
        timing: LeaseTiming,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.identity_id = identity_id
        self.rid = rid
        self.owner = claim.owner
        self.timing = timing
        self._wall_clock = wall_clock
        self._limit = claim.seq_limit
        self._feed_n = 0
        self._lock = threading.Lock()
        self.lost = False
        """Another attempt took this rid over: publish nothing more, record nothing."""

    def heartbeat(self, seq_done: int, next_seq: int, feed_n: int) -> Heartbeat:
        """Renew the lease, record progress (events below `seq_done` published, `next_seq` next) and read
        the cancel flag. Raises the store's errors (the stream then ends with `internal_error`)."""
        with self._lock:
            self._feed_n = max(self._feed_n, feed_n)
            return self._renew(seq_done, next_seq)

    def reserve(self, seq: int, seq_done: int) -> bool:
        """May event `seq` be published? Renews the reservation first when the stream reached it. False once
        the rid was taken over; `PublishError` when the store cannot be reached."""
        if seq <= self._limit and not self.lost:
            return True
        with self._lock:
            if self.lost:
                return False
            if seq <= self._limit:
                return True
            try:
                self._renew(seq_done, seq)
            except (ClientError, BotoCoreError) as exc:
                raise PublishError("lease_unavailable", "the stream's lease could not be renewed") from exc
            return not self.lost

    def _renew(self, seq_done: int, next_seq: int) -> Heartbeat:
        limit = max(self._limit, next_seq + self.timing.reserve)
        result = self.store.heartbeat(
            self.identity_id,
            self.rid,
            self.owner,
            lease_until_ms=int(self._wall_clock() * 1000) + self.timing.lease_ms,
            seq_done=seq_done,
            seq_limit=limit,
            feed_n=self._feed_n,
        )
        if result == "lost":
            self.lost = True
        else:
            self._limit = limit
        return result
