"""The front door of a prompt: claim its rid and pass the identity's limits in one write.

One DynamoDB round trip on the first-token path (a transaction of the request record's claim and the
admission's conditional writes, `iotstream_lambdas.streaming.state.StateStore.write`), and what to do when it fails:

| what failed | meaning | outcome |
|---|---|---|
| nothing | the rid is ours | `Opened`: stream it |
| the claim, the record has an outcome | a duplicate delivery of an answered prompt | `Skipped` |
| the claim, the record is `cancelled` only | the user cancelled before the prompt arrived | `Cancelled` (recorded) |
| the claim, the record is `streaming` | another attempt streams it, or died doing so | wait for its lease: renewed → `Skipped`; ran out → `Interrupted` (ours to end) |
| a rate window | over `PROMPTS_PER_MINUTE` / `PROMPTS_PER_DAY` | `Refusal` (recorded; a repeated one only read) |
| the stream slot | full, or holding leases that ended | tidy the slots, try again, or `Refusal` |
| a concurrent transaction on the same items | another prompt of this identity | try again |

A refused or cancelled rid is recorded as answered, so a redelivery publishes nothing more. A repeated refusal
(the identity's rate window is already known to be full) is not recorded: its rid is only read, so that a
redelivered prompt that streams, or streamed, is never answered with an error; such a rid, delivered again, is
refused again while the window lasts. A flood of prompts then leaves no items in the table.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from iotstream_lambdas.streaming.admission import Admission, Lease, Refusal
from iotstream_lambdas.streaming.lease import LeaseTiming, RequestLease
from iotstream_lambdas.streaming.state import STREAMING, Claim, ConditionsFailed, RequestRecord, StateStore
from iotstream_lambdas.streaming.wire import E_INTERRUPTED, E_TOO_MANY_STREAMS

ATTEMPTS = 5
"""Tries when other prompts of the same identity change its slots or counters at the same moment."""


@dataclass(frozen=True, slots=True)
class Opened:
    """The rid is this invocation's to stream; `slot` is its admission lease (None without stream limits)."""

    lease: RequestLease
    slot: Lease | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """Nothing to publish: the rid was answered, or another live attempt answers it."""

    reason: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The user cancelled before the prompt arrived (recorded as `cancelled`)."""


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The attempt streaming this rid died (its lease ran out); this invocation took over to end the stream.
    Nothing beyond `record.seq_limit` was published, everything below `record.seq_done` was."""

    record: RequestRecord


Decision = Opened | Skipped | Cancelled | Interrupted | Refusal


class Gate:
    """Claims rids (idempotency per rid) and admits them within the identity's limits."""

    def __init__(
        self,
        store: StateStore,
        admission: Admission | None,
        timing: LeaseTiming,
        *,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.admission = admission
        self.timing = timing
        self.wall_clock = wall_clock
        self.sleep = sleep

    def open(
        self, identity_id: str, rid: str, model: str, received_at_ms: int | None, slot_ms: int
    ) -> Decision:
        """Claim `rid` and admit it (its stream slot held at most `slot_ms`), in one write when all is well."""
        now_ms = self._now_ms()
        admission = self.admission
        if admission is not None:
            if (refusal := admission.expired(received_at_ms, now_ms)) is not None:
                return self._refuse(identity_id, rid, refusal)
            if (refusal := admission.remembered(identity_id, now_ms)) is not None:
                return self._refuse_again(identity_id, rid, refusal)
        claim = Claim(uuid.uuid4().hex, now_ms + self.timing.lease_ms, self.timing.reserve, model)
        for _ in range(ATTEMPTS):
            actions = [{"Put": self.store.claim_put(identity_id, rid, claim)}]
            if admission is not None:
                actions += admission.actions(identity_id, rid, now_ms, now_ms + slot_ms)
            try:
                self.store.write(actions)
            except ConditionsFailed as failed:
                if failed.conflict:
                    continue
                if failed.failed[0]:
                    return self._claimed_before(identity_id, rid)
                assert admission is not None  # only its writes remain
                refusal = admission.judge(failed.failed[1:], identity_id, now_ms)
                if refusal is None:
                    continue  # slots tidied: there is room now
                return self._refuse(identity_id, rid, refusal)
            lease = RequestLease(self.store, identity_id, rid, claim, self.timing, wall_clock=self.wall_clock)
            slot = Lease(identity_id, rid) if admission is not None and admission.limits.max_streams else None
            return Opened(lease, slot)
        return self._refuse(
            identity_id, rid, Refusal(E_TOO_MANY_STREAMS, "Too many prompts at once; please try again.", 1000)
        )

    def _now_ms(self) -> int:
        return int(self.wall_clock() * 1000)

    def _refuse(self, identity_id: str, rid: str, refusal: Refusal) -> Decision:
        if self.store.record_outcome_unclaimed(identity_id, rid, f"error:{refusal.code}"):
            return refusal
        return self._claimed_before(identity_id, rid)

    def _refuse_again(self, identity_id: str, rid: str, refusal: Refusal) -> Decision:
        """A repeated refusal: read, not written (the module docstring)."""
        record = self.store.read_request(identity_id, rid)
        if record is None:
            return refusal
        return self._claimed(identity_id, rid, record)

    def _claimed_before(self, identity_id: str, rid: str) -> Decision:
        record = self.store.read_request(identity_id, rid)
        if record is None:  # expired by TTL in between: long answered
            return Skipped("answered")
        return self._claimed(identity_id, rid, record)

    def _claimed(self, identity_id: str, rid: str, record: RequestRecord) -> Decision:
        """What to do with a rid that has a record: answered, cancelled before it came, or streaming."""
        if record.status is None and record.cancelled:
            if self.store.record_outcome_unclaimed(identity_id, rid, "cancelled"):
                return Cancelled()
            return Skipped("answered")
        if record.status != STREAMING:
            return Skipped("answered")
        return self._take_over(identity_id, rid, record)

    def _take_over(self, identity_id: str, rid: str, record: RequestRecord) -> Decision:
        """Wait for the owner's lease to run out (at most one lease and a heartbeat): renewed means the owner
        lives (`Skipped`); run out means it died, and this attempt ends the stream (`Interrupted`)."""
        give_up = self._now_ms() + self.timing.lease_ms + int(self.timing.heartbeat_s * 1000) + 1000
        while (now_ms := self._now_ms()) < record.lease_until_ms:
            if now_ms >= give_up:
                return Skipped("live")
            self.sleep(max(0.01, min(record.lease_until_ms - now_ms, give_up - now_ms) / 1000))
            fresh = self.store.read_request(identity_id, rid)
            if fresh is None or fresh.status != STREAMING:
                return Skipped("answered")
            if fresh.lease_until_ms != record.lease_until_ms:
                return Skipped("live")  # the owner renewed its lease
        if self.store.take_over(identity_id, rid, record, uuid.uuid4().hex, f"error:{E_INTERRUPTED}"):
            return Interrupted(record)
        return Skipped("taken over")
