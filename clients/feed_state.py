"""The dashboard feed's messages and what a dashboard makes of them, without any I/O.

The service publishes one small status message per stream to `dashboard/streams/{shard}` at the start,
about once per second while it streams, and once at the end (docs/protocol.md "Dashboard feed"). Every
message carries the whole current state, so a dashboard keeps, per request id, the update with the
highest `n`; `end` and `error` are final.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

FEED_TOPIC = "dashboard/streams/{shard}"
FINAL_STATES = frozenset({"end", "error"})
STATES = frozenset({"started", "streaming"}) | FINAL_STATES
KEEP_FINISHED = 200  # finished streams a dashboard remembers (live ones are always kept)


def feed_topic(shard: int) -> str:
    """`dashboard/streams/{shard}`: the topic of one shard of the feed."""
    return FEED_TOPIC.format(shard=shard)


class FeedFormatError(ValueError):
    """A payload on a feed topic that is not a v1 status message."""


def _number(body: Mapping[str, Any], name: str, required: bool = True) -> float | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeedFormatError(f"status field {name!r} must be a number")
    return float(value)


@dataclass(frozen=True)
class StreamStatus:
    """One status update of one stream (no prompt or answer text is ever in the feed)."""

    rid: str
    identity: str
    n: int
    state: str  # started | streaming | end | error
    model: str
    started: int  # epoch ms
    ts: int  # epoch ms of this update
    tokens: int
    messages: int
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    stop: str | None = None  # state end
    code: str | None = None  # state error
    raw: Mapping[str, Any] | None = None  # the message as received (for --json)

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @classmethod
    def parse(cls, payload: bytes | str) -> StreamStatus:
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as error:
            raise FeedFormatError(f"not JSON: {error}") from None
        if not isinstance(body, dict) or body.get("v") != 1 or body.get("type") != "status":
            raise FeedFormatError("not a v1 status message")
        texts = {name: body.get(name) for name in ("rid", "identity", "state", "model")}
        if not all(isinstance(value, str) for value in texts.values()) or body["state"] not in STATES:
            raise FeedFormatError("status needs the strings rid, identity, model and a known state")
        stop, code = body.get("stop"), body.get("code")
        return cls(
            rid=body["rid"],
            identity=body["identity"],
            n=int(_number(body, "n") or 0),
            state=body["state"],
            model=body["model"],
            started=int(_number(body, "started") or 0),
            ts=int(_number(body, "ts") or 0),
            tokens=int(_number(body, "tokens") or 0),
            messages=int(_number(body, "messages") or 0),
            ttft_ms=_number(body, "ttft_ms", required=False),
            tokens_per_s=_number(body, "tokens_per_s", required=False),
            stop=stop if isinstance(stop, str) else None,
            code=code if isinstance(code, str) else None,
            raw=body,
        )


@dataclass(frozen=True)
class FeedTotals:
    live: int
    completed: int  # streams whose final update arrived (end or error)
    errors: int
    tokens: int  # output tokens of every stream seen


class FeedState:
    """Per request id the newest update; totals; output tokens per second of local receive time."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.streams: OrderedDict[str, StreamStatus] = OrderedDict()
        self.completed = 0
        self.errors = 0
        self.received = 0  # feed messages, stale and duplicate ones included
        self.ignored = 0  # payloads that were not status messages
        self._tokens_by_second: dict[int, int] = {}
        self._finished_tokens = 0

    def accept(self, status: StreamStatus) -> bool:
        """True when `status` is news (a higher `n`, and its stream was not final yet)."""
        self.received += 1
        known = self.streams.get(status.rid)
        if known is not None and (known.final or status.n <= known.n):
            return False
        gained = status.tokens - (known.tokens if known else 0)
        if gained > 0:
            second = int(self._clock())
            self._tokens_by_second[second] = self._tokens_by_second.get(second, 0) + gained
        self.streams[status.rid] = status
        self.streams.move_to_end(status.rid)
        if status.final:
            self.completed += 1
            self.errors += status.state == "error"
            self._forget_old_finished()
        return True

    def _forget_old_finished(self) -> None:
        finished = [rid for rid, status in self.streams.items() if status.final]
        for rid in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            self._finished_tokens += self.streams.pop(rid).tokens

    def totals(self) -> FeedTotals:
        live = sum(1 for status in self.streams.values() if not status.final)
        tokens = self._finished_tokens + sum(status.tokens for status in self.streams.values())
        return FeedTotals(live=live, completed=self.completed, errors=self.errors, tokens=tokens)

    def token_rate(self, seconds: int = 30) -> list[int]:
        """Output tokens received in each of the last `seconds` whole seconds, oldest first."""
        now = int(self._clock())
        for second in [s for s in self._tokens_by_second if s <= now - seconds]:
            del self._tokens_by_second[second]
        return [self._tokens_by_second.get(second, 0) for second in range(now - seconds + 1, now + 1)]
