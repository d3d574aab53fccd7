"""The dashboard feed's producer: a few status updates per stream on `dashboard/streams/{shard}`.

Why: AWS IoT delivers at most 100 publishes/s per connection and discards the excess (AWS IoT Core quotas,
"Message broker"), so a dashboard subscribed to every response topic misses most of them under load.
Instead each stream publishes its status (`iotstream_lambdas.streaming.status`) at start, at most once per `interval_s`
while streaming (only when something changed), and once at the end, to one of `shards` topics chosen by
its rid; a dashboard opens one connection per shard.

The feed runs in its own thread and reads the stream's progress through a callback: it never sits between
the model and the user, and a failed feed publish is logged and dropped (the next update carries the whole
state again). Only the final update is retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aws_lambda_powertools import Logger

from iotstream_lambdas.streaming.errors import PublishError
from iotstream_lambdas.streaming.publisher import PublishClient, publish_with_retry
from iotstream_lambdas.streaming.status import (
    DEFAULT_DASHBOARD_SHARDS,
    StatusState,
    StreamStatus,
    dashboard_shards,
    dashboard_topic,
    encode_status,
    shard_of,
)
from iotstream_lambdas.streaming.wire import StopReason

_Final = tuple[StatusState, StopReason | None, str | None]
"""How a stream ended: the final state, and its stop reason (`end`) or error code (`error`)."""
ABANDONED: _Final = ("error", None, "abandoned")
"""The stream was taken over: no final update from this feed."""


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """`DASHBOARD_SHARDS` topics; one `streaming` update per `DASHBOARD_INTERVAL_MS` at most."""

    shards: int = DEFAULT_DASHBOARD_SHARDS
    interval_s: float = 1.0
    qos: int = 1
    final_attempts: int = 3
    retry_backoff_s: float = 0.05
    close_timeout_s: float = 2.0
    """How long the service waits, after the user's stream ended, for the final update to go out."""

    def __post_init__(self) -> None:
        if self.shards < 1 or self.interval_s <= 0:
            raise ValueError("DASHBOARD_SHARDS must be >= 1 and DASHBOARD_INTERVAL_MS > 0")


def feed_config_from_env(env: Mapping[str, str]) -> FeedConfig:
    """`DASHBOARD_SHARDS` (default 8) and `DASHBOARD_INTERVAL_MS` (default 1000)."""
    interval_ms = env.get("DASHBOARD_INTERVAL_MS") or str(FeedConfig().interval_s * 1000)
    return FeedConfig(shards=dashboard_shards(env), interval_s=float(interval_ms) / 1000)


@dataclass(frozen=True, slots=True)
class Progress:
    """What the stream has done so far, as the feed reports it."""

    tokens: int = 0
    messages: int = 0
    ttft_ms: float | None = None
    tokens_per_s: float | None = None


class DashboardFeed:
    """Publishes status updates through an iot-data client; one `StreamFeed` per stream."""

    def __init__(
        self,
        client: PublishClient,
        config: FeedConfig | None = None,
        *,
        logger: Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.config = config or FeedConfig()
        self.logger = logger or Logger(service="iotstream-prompt")
        self.clock = clock
        self.wall_clock = wall_clock

    def now_ms(self) -> int:
        return int(self.wall_clock() * 1000)

    def open(self, identity: str, rid: str, model: str, progress: Callable[[], Progress]) -> StreamFeed:
        """Start reporting one stream: `started` goes out at once (from the feed's thread)."""
        feed = StreamFeed(self, identity, rid, model, progress)
        feed.start()
        return feed

    def rejected(self, identity: str, rid: str, model: str, code: str) -> None:
        """A prompt refused before streaming (with a usable rid): its only update, `error`, after the user's."""
        now = self.now_ms()
        status = StreamStatus(rid, identity, 0, "error", model, now, now, 0, 1, code=code)
        self.send(status, self.config.final_attempts)

    def send(self, status: StreamStatus, attempts: int = 1) -> bool:
        """One update, tried `attempts` times; a failure is logged, never raised."""
        topic = dashboard_topic(shard_of(status.rid, self.config.shards))
        config = self.config
        try:
            publish_with_retry(
                self.client, topic, config.qos, encode_status(status), attempts, config.retry_backoff_s
            )
        except PublishError as exc:
            self.logger.warning(
                "dashboard feed update not published",
                extra={"rid": status.rid, "n": status.n, "state": status.state, "error": str(exc.__cause__)},
            )
            return False
        return True


class StreamFeed:
    """The updates of one stream, published by their own thread."""

    def __init__(
        self, feed: DashboardFeed, identity: str, rid: str, model: str, progress: Callable[[], Progress]
    ) -> None:
        self._feed = feed
        self._progress = progress
        now = feed.now_ms()
        self._first = StreamStatus(rid, identity, 0, "started", model, now, now, 0, 0)
        self._last = self._first
        self._last_at = feed.clock()
        self._final: _Final | None = None
        self._cond = threading.Condition()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"feed-{rid[:8]}", daemon=True)

    @property
    def rid(self) -> str:
        return self._first.rid

    def start(self) -> None:
        self._thread.start()

    def end(self, stop: StopReason) -> None:
        """The stream ended: the final update goes out now (not waiting for the interval)."""
        self._finish(("end", stop, None))

    def fail(self, code: str) -> None:
        """The stream ended with an `error` event."""
        self._finish(("error", None, code))

    def abandon(self) -> None:
        """Send nothing more (the stream was taken over; the new owner sends the final update)."""
        self._finish(ABANDONED)

    @property
    def n(self) -> int:
        """The number of the last update handed to iot-data."""
        return self._last.n

    def close(self, timeout: float | None = None) -> bool:
        """Wait until the final update was handled (published or given up). True when it finished in time."""
        return self._done.wait(timeout)

    def _finish(self, final: _Final) -> None:
        with self._cond:
            if self._final is None:
                self._final = final
                self._cond.notify()

    def _next(self, state: StatusState, progress: Progress, **extra: Any) -> StreamStatus:
        return replace(
            self._last,
            n=self._last.n + 1,
            state=state,
            ts=self._feed.now_ms(),
            tokens=progress.tokens,
            messages=progress.messages,
            ttft_ms=progress.ttft_ms,
            tokens_per_s=progress.tokens_per_s,
            **extra,
        )

    def _wait_for_turn(self) -> _Final | None:
        """Sleep until the next update is due (one interval after the last) or the stream ends."""
        with self._cond:
            while self._final is None:
                left = self._last_at + self._feed.config.interval_s - self._feed.clock()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._final

    def _run(self) -> None:
        try:
            self._feed.send(self._first)
            while (final := self._wait_for_turn()) is None:
                progress = self._progress()
                self._last_at = self._feed.clock()
                if (progress.tokens, progress.messages) != (self._last.tokens, self._last.messages):
                    self._last = self._next("streaming", progress)
                    self._feed.send(self._last)
            if final is ABANDONED:
                return
            state, stop, code = final
            final_update = self._next(state, self._progress(), stop=stop, code=code)
            self._feed.send(final_update, self._feed.config.final_attempts)
        except Exception:  # thread boundary: the feed must never break the stream
            self._feed.logger.exception("dashboard feed failed", extra={"rid": self._first.rid})
        finally:
            self._done.set()
