"""What a dashboard makes of the feed, without any I/O: the streams, totals and the token rate.

The service publishes one small status message per stream to `dashboard/streams/{shard}` at the start,
about once per second while it streams, and once at the end (docs/protocol.md "Dashboard feed"; the message
is `iotstream_lambdas.streaming.status.StreamStatus`). Every message carries the whole current state, so `FeedView` keeps, per
request id, the update with the highest `n`; `end` and `error` are final.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from iotstream_lambdas.streaming.status import FeedView, StreamStatus

KEEP_FINISHED = 200  # finished streams a dashboard remembers (live ones are always kept)


@dataclass(frozen=True)
class FeedTotals:
    live: int
    completed: int  # streams whose final update arrived (end or error)
    errors: int
    tokens: int  # output tokens of every stream seen


class FeedState:
    """`FeedView` plus what a dashboard shows around it: totals and output tokens per second."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.view = FeedView()
        self.completed = 0
        self.errors = 0
        self.received = 0  # feed messages, stale and duplicate ones included
        self.ignored = 0  # payloads that were not status messages
        self._tokens_by_second: dict[int, int] = {}
        self._forgotten_tokens = 0

    @property
    def streams(self) -> list[StreamStatus]:
        """Every remembered stream, in the order they were first seen."""
        return list(self.view.streams.values())

    def accept(self, status: StreamStatus) -> bool:
        """True when `status` is news (a higher `n` than known for its rid)."""
        self.received += 1
        known = self.view.streams.get(status.rid)
        if not self.view.apply(status):
            return False
        gained = status.tokens - (known.tokens if known else 0)
        if gained > 0:
            second = int(self._clock())
            self._tokens_by_second[second] = self._tokens_by_second.get(second, 0) + gained
        if status.final and not (known and known.final):
            self.completed += 1
            self.errors += status.state == "error"
            self._forget_old_finished()
        return True

    def _forget_old_finished(self) -> None:
        finished = [rid for rid, status in self.view.streams.items() if status.final]
        for rid in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            self._forgotten_tokens += self.view.streams.pop(rid).tokens

    def totals(self) -> FeedTotals:
        streams = self.view.streams.values()
        live = sum(1 for status in streams if not status.final)
        tokens = self._forgotten_tokens + sum(status.tokens for status in streams)
        return FeedTotals(live=live, completed=self.completed, errors=self.errors, tokens=tokens)

    def token_rate(self, seconds: int = 30) -> list[int]:
        """Output tokens received in each of the last `seconds` whole seconds, oldest first."""
        now = int(self._clock())
        for second in [s for s in self._tokens_by_second if s <= now - seconds]:
            del self._tokens_by_second[second]
        return [self._tokens_by_second.get(second, 0) for second in range(now - seconds + 1, now + 1)]
