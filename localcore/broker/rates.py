"""Per-connection rate limits (AWS IoT Core message broker quotas, iot-core.html in the General Reference).

Both count in one-second windows of the caller's monotonic clock; neither reads a clock itself.
"""

from __future__ import annotations


class RateWindow:
    """At most `limit` publishes per one-second window (AWS: 100/s per connection in+out, excess dropped)."""

    __slots__ = ("count", "limit", "start")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.start = 0.0
        self.count = 0

    def allow(self, now: float) -> bool:
        if self.limit is None:
            return True
        if now - self.start >= 1.0:
            self.start = now
            self.count = 0
        if self.count >= self.limit:
            return False
        self.count += 1
        return True


class ByteThrottle:
    """Inbound bytes per one-second window; returns how long to pause reading once the window is full.

    AWS: throughput over 512 KiB/s per connection is delayed, not dropped.
    """

    __slots__ = ("count", "limit", "start")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.start = 0.0
        self.count = 0

    def delay_for(self, size: int, now: float) -> float:
        if self.limit is None:
            return 0.0
        if now - self.start >= 1.0:
            self.start = now
            self.count = 0
        self.count += size
        if self.count <= self.limit:
            return 0.0
        delay = self.start + 1.0 - now
        self.start += 1.0
        self.count -= self.limit
        return max(delay, 0.0)
