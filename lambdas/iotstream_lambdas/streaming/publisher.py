"""Adaptive coalescing publisher: one stream's events to AWS IoT through iot-data Publish.

The model is never blocked by publishing: `add_text` only appends to a buffer, and a publisher
thread sends. The publisher thread sends the waiting text as one message as soon as ANY of these holds
(never faster than the per-stream rate cap):

- the oldest waiting text has waited `latency_budget_s` (a timer, so a stalled model still flushes);
- the next token, at the model's observed pace, would arrive after that budget (waiting gains nothing);
- `max_batch_tokens` chunks are waiting (fast models: low latency, the rate cap bounds the count);
- the text ends a sentence or line and at least `sentence_min_tokens` chunks are waiting;
- the message would reach `max_message_bytes`, or the stream is ending.

`start` waits up to `start_hold_s` for the first text and carries it, and leaves as soon as that text is
there: the first text is never coalesced (what a user waits for most). `end` carries the text that is
still waiting when the model finishes. So a 50 tokens/s model sends five tokens per message with at most
~80 ms added, and a 500 tokens/s model sends one message per rate-cap interval. Caps keep each stream far
below AWS IoT's per-connection limits (100 publishes/s, 512 KiB/s, 128 KB payload; AWS IoT Core quotas,
"Message broker").

Order: `start` (seq 0), deltas, then exactly one terminal event (`end` or `error`), seq strictly
increasing by one.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from iotstream_lambdas.streaming.errors import PublishError
from iotstream_lambdas.streaming.wire import (
    Delta,
    End,
    Error,
    Event,
    Start,
    StopReason,
    Usage,
    encode_event,
    response_topic,
)

_SENTENCE_END = re.compile(r"""(?:[.!?。！？][\"')\]]*\s*|\n)$""")


class PublishClient(Protocol):
    """The part of a boto3 `iot-data` client the publisher uses."""

    def publish(self, *, topic: str, qos: int, payload: bytes) -> Any:
        """Publish one message (iot-data `Publish`)."""
        ...


def publish_with_retry(
    client: PublishClient, topic: str, qos: int, payload: bytes, attempts: int, backoff_s: float
) -> None:
    """One iot-data Publish, retried with exponential back-off; PublishError when it keeps failing."""
    for attempt in range(1, attempts + 1):
        try:
            client.publish(topic=topic, qos=qos, payload=payload)
            return
        except (ClientError, BotoCoreError) as exc:
            if attempt >= attempts:
                raise PublishError("publish_failed", f"publishing to {topic} failed: {exc}") from exc
            time.sleep(backoff_s * 2 ** (attempt - 1))  # back off before retrying AWS


@dataclass(frozen=True, slots=True)
class PublisherConfig:
    """Coalescing knobs. `max_messages_per_second <= 0` disables the rate cap."""

    max_messages_per_second: float = 20.0
    max_message_bytes: int = 4096
    coalesce: bool = True
    """False publishes every chunk as its own message, start and end without text (the per-token baseline)."""
    latency_budget_s: float = 0.09
    """The longest the oldest waiting text is held for more (0 = publish as soon as the rate cap allows)."""
    max_batch_tokens: int = 6
    """Publish as soon as this many chunks wait (0 = no count trigger)."""
    flush_on_sentence: bool = True
    """Publish at a sentence (or line) end once `sentence_min_tokens` chunks wait."""
    sentence_min_tokens: int = 5
    start_hold_s: float = 0.25
    """`start` waits this long for the first text to carry (0 = `start` goes at once, without text)."""
    qos: int = 1
    publish_attempts: int = 4
    retry_backoff_s: float = 0.05


@dataclass
class PublisherMetrics:
    """What one stream cost and how long text waited in the publisher."""

    messages: int = 0
    deltas: int = 0
    text_messages: int = 0
    """Messages that carried text (deltas, and `start`/`end` carrying the first/last text)."""
    bytes: int = 0
    chunks: int = 0
    text_bytes: int = 0
    publish_times: list[float] = field(default_factory=list)
    added_latency_s: list[float] = field(default_factory=list)
    """Per chunk: from `add_text` until the publish that carried it returned."""

    def summary(self) -> dict[str, float | int]:
        """Flat numbers for the `end` event's `metrics`."""
        out: dict[str, float | int] = {
            "messages": self.messages,
            "deltas": self.deltas,
            "text_messages": self.text_messages,
            "bytes": self.bytes,
            "chunks": self.chunks,
        }
        if self.added_latency_s:
            ordered = sorted(self.added_latency_s)
            out["added_latency_p50_ms"] = round(ordered[len(ordered) // 2] * 1000, 2)
            out["added_latency_p99_ms"] = round(
                ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2
            )
            out["added_latency_max_ms"] = round(ordered[-1] * 1000, 2)
        return out


@dataclass
class _Segment:
    text: str
    added_at: float


def _escaped_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def _split_to_fit(text: str, budget: int) -> int:
    """The longest prefix length (in characters) of `text` whose JSON-escaped size fits `budget`."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if _escaped_size(text[:mid]) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


Reserve = Callable[[int, int], bool]
"""`reserve(seq, published)`: may event `seq` go out (`published` events went out before it)? False: the
stream is no longer ours (`iotstream_lambdas.streaming.lease.RequestLease.reserve`)."""
LEASE_LOST = "lease_lost"


class CoalescingPublisher:
    """Publishes the events of one request on `chat/{identity_id}/response/{rid}`."""

    def __init__(
        self,
        client: PublishClient,
        identity_id: str,
        rid: str,
        config: PublisherConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        reserve: Reserve | None = None,
    ) -> None:
        self.config = config or PublisherConfig()
        self.topic = response_topic(identity_id, rid)
        self.rid = rid
        self.metrics = PublisherMetrics()
        self._client = client
        self._clock = clock
        self._wall_clock = wall_clock
        self._cond = threading.Condition()
        self._pending: deque[_Segment] = deque()
        self._start: Start | None = None
        self._terminal: Callable[[int, str], Event] | None = None
        self._terminal_is_end = False
        self._start_at = 0.0
        self._gap: float | None = None
        self._last_added: float | None = None
        self._pending_size = 0
        self._terminal_requested = False
        self._done = threading.Event()
        self._failed: PublishError | None = None
        self._seq = 0
        self._next_allowed = 0.0
        self._thread: threading.Thread | None = None
        self._reserve = reserve
        self._abandoned = False
        overhead = len(encode_event(Delta(rid=rid, seq=10**9, text="")))
        self._text_budget = max(16, self.config.max_message_bytes - overhead)

    # ------------------------------------------------------------------ producer side (never blocks)

    def start(self, model: str) -> None:
        """Queue the `start` event and start the publisher thread."""
        with self._cond:
            if self._thread is not None:
                raise PublishError("already_started", "the publisher was already started")
            self._start = Start(rid=self.rid, seq=0, model=model, ts=int(self._wall_clock() * 1000))
            self._start_at = self._clock()
            self._thread = threading.Thread(target=self._run, name=f"publish-{self.rid[:8]}", daemon=True)
            self._thread.start()

    def add_text(self, text: str) -> None:
        """Queue answer text; it joins whatever is not yet published."""
        if not text:
            return
        with self._cond:
            if self._terminal_requested:
                raise PublishError("closed", "text added after the terminal event")
            now = self._clock()
            if self._last_added is not None:  # the model's pace: moving average of the gaps between chunks
                gap = now - self._last_added
                self._gap = gap if self._gap is None else 0.7 * self._gap + 0.3 * gap
            self._last_added = now
            was_empty = not self._pending
            self._pending.append(_Segment(text, now))
            self._pending_size += _escaped_size(text)
            self.metrics.chunks += 1
            self.metrics.text_bytes += len(text.encode("utf-8"))
            # Wake the publisher thread only when its plan changes: text to time from, or a batch due now.
            # Otherwise it already sleeps until the oldest text's budget (a wake-up per chunk costs CPU).
            if was_empty or ((wait := self._hold_back()) is not None and wait <= 0):
                self._cond.notify()

    def end(self, stop: StopReason, usage: Usage, metrics: Mapping[str, float | int] | None = None) -> None:
        """Queue the `end` event; it is published after every delta. Later terminal calls are ignored."""
        extra = dict(metrics or {})

        def build(seq: int, text: str) -> Event:
            summary = self.metrics.summary()
            summary["messages"] += 1  # this `end` itself
            return End(
                rid=self.rid,
                seq=seq,
                stop=stop,
                usage=usage,
                metrics={**extra, **summary},
                text=text,
            )

        self._request_terminal(build, is_end=True)

    def fail(self, code: str, message: str) -> None:
        """Queue an `error` event (after every delta already queued). Later terminal calls are ignored."""
        self._request_terminal(lambda seq, _text: Error(rid=self.rid, seq=seq, code=code, message=message))

    def _request_terminal(self, build: Callable[[int, str], Event], *, is_end: bool = False) -> None:
        with self._cond:
            if self._terminal_requested:
                return
            self._terminal_requested = True
            self._terminal = build
            self._terminal_is_end = is_end
            self._cond.notify()

    def abandon(self) -> None:
        """Publish nothing more (the stream was taken over): the publisher thread ends at once."""
        with self._cond:
            self._abandoned = True
            self._cond.notify()

    @property
    def progress(self) -> tuple[int, int]:
        """(events published, the next event's seq): every event below the first number went out."""
        with self._cond:
            return self.metrics.messages, self._seq

    def close(self, timeout: float | None = None) -> bool:
        """Wait until the terminal event is published (or publishing failed). True when it was published."""
        finished = self._done.wait(timeout)
        return finished and self._failed is None

    @property
    def failed(self) -> PublishError | None:
        """The publish failure that stopped this stream, if any."""
        return self._failed

    @property
    def finished(self) -> bool:
        """True once the publisher thread has stopped (terminal published or failure)."""
        return self._done.is_set()

    # ------------------------------------------------------------------ publisher thread

    def _run(self) -> None:
        event: Event | None = None
        try:
            while (next_message := self._next_message()) is not None:
                event, segments = next_message
                if self._reserve is not None and not self._reserve(event.seq, self.metrics.messages):
                    raise PublishError(LEASE_LOST, "the stream was taken over by another invocation")
                self._publish(event, segments)
                if isinstance(event, End | Error):
                    return
        except PublishError as exc:
            self._failed = exc
            if exc.code != LEASE_LOST and event is not None and not isinstance(event, End | Error):
                self._publish_failure_terminal(event.seq)
        finally:
            self._done.set()

    def _publish_failure_terminal(self, seq: int) -> None:
        """After a message could not be published, still end the stream: an `error` at that message's seq
        (nothing after it was sent), retried a little longer, so the client is not left waiting."""
        error = Error(
            rid=self.rid,
            seq=seq,
            code="publish_failed",
            message="The answer could not be delivered. Please retry.",
        )
        with contextlib.suppress(PublishError):  # down for good: the client's idle timeout reports it
            self._send(encode_event(error), attempts=self.config.publish_attempts * 2)

    def _next_message(self) -> tuple[Event, list[_Segment]] | None:
        with self._cond:
            while not self._abandoned:
                wait = self._hold_back()
                if wait is not None and wait <= 0:
                    return self._take()
                self._cond.wait(wait)
            return None

    def _hold_back(self) -> float | None:
        """Seconds to wait before the next message may go (None: until something is added)."""
        now = self._clock()
        if self._start is None and not self._pending and not self._terminal_requested:
            return None
        if self._next_allowed > now:
            return self._next_allowed - now
        if self._terminal_requested:
            return 0.0
        if not self._pending:  # only `start` waits, for text to carry
            return self._start_at + self._start_hold() - now
        if self._start is not None:  # the first text leaves at once, on `start`; coalescing starts after it
            return 0.0
        return self._batch_hold(now)

    def _start_hold(self) -> float:
        return self.config.start_hold_s if self.config.coalesce else 0.0

    def _batch_hold(self, now: float) -> float:
        """The coalescing policy (module docstring): 0 = publish the waiting text now."""
        config = self.config
        if not config.coalesce or config.latency_budget_s <= 0:
            return 0.0
        count = len(self._pending)
        age = now - self._pending[0].added_at
        if (
            age >= config.latency_budget_s
            or (0 < config.max_batch_tokens <= count)
            or (self._gap is not None and age + self._gap > config.latency_budget_s)
            or (
                config.flush_on_sentence
                and count >= config.sentence_min_tokens
                and _SENTENCE_END.search(self._pending[-1].text) is not None
            )
            or self._pending_size >= self._text_budget
        ):
            return 0.0
        return config.latency_budget_s - age

    def _take(self) -> tuple[Event, list[_Segment]]:
        seq = self._seq
        self._seq += 1
        carry = self.config.coalesce and self._start_hold() > 0
        if self._start is not None:
            start, self._start = self._start, None
            if not carry or not self._pending:
                return start, []
            overhead = len(
                encode_event(Start(rid=self.rid, seq=seq, model=start.model, ts=start.ts, text="x"))
            )
            text, taken = self._take_text(self.config.max_message_bytes - overhead + 1)
            return Start(rid=start.rid, seq=seq, model=start.model, ts=start.ts, text=text), taken
        if self._pending:
            last = self._terminal_requested and self._terminal_is_end and self._fits_in_one()
            text, taken = self._take_text(self._text_budget)
            if last and self.config.coalesce and self._terminal is not None:
                end = self._terminal(seq, text)
                if len(encode_event(end)) <= self.config.max_message_bytes:
                    return end, taken
            return Delta(rid=self.rid, seq=seq, text=text), taken
        assert self._terminal is not None  # guaranteed by _hold_back: terminal requested, nothing pending
        return self._terminal(seq, ""), []

    def _fits_in_one(self) -> bool:
        return self._pending_size <= self._text_budget

    def _take_text(self, budget: int) -> tuple[str, list[_Segment]]:
        """Take waiting text whose JSON-escaped size fits `budget` (at least one character)."""
        budget = max(16, budget)
        taken: list[_Segment] = []
        used = 0
        while self._pending:
            head = self._pending[0]
            size = _escaped_size(head.text)
            if used + size <= budget:
                taken.append(self._pending.popleft())
                used += size
            elif not taken:
                cut = max(1, _split_to_fit(head.text, budget))
                taken.append(_Segment(head.text[:cut], head.added_at))
                head.text = head.text[cut:]
                used += _escaped_size(taken[-1].text)
            else:
                break
            if not self.config.coalesce:
                break
        self._pending_size = max(0, self._pending_size - used)
        if not self._pending:
            self._pending_size = 0
        return "".join(s.text for s in taken), taken

    def _send(self, payload: bytes, attempts: int) -> None:
        config = self.config
        publish_with_retry(self._client, self.topic, config.qos, payload, attempts, config.retry_backoff_s)

    def _publish(self, event: Event, segments: list[_Segment]) -> None:
        payload = encode_event(event)
        started = self._clock()
        self._send(payload, self.config.publish_attempts)
        done = self._clock()
        rate = self.config.max_messages_per_second
        with self._cond:
            self._next_allowed = started + (1.0 / rate if rate > 0 else 0.0)
            metrics = self.metrics
            metrics.messages += 1
            metrics.bytes += len(payload)
            metrics.publish_times.append(started)
            if isinstance(event, Delta):
                metrics.deltas += 1
            if segments:
                metrics.text_messages += 1
                metrics.added_latency_s.extend(done - s.added_at for s in segments)
