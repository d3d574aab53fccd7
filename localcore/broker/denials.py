"""The denial log: one JSON line per refusal on `localcore.broker.authz`, rate-limited per connection.

A denial line says what AWS never tells the client: which action on which resource, and why. A connection
refused thousands of times a second (a SUBSCRIBE carries 8 filters and has no rate limit; one user once wrote
152,000 lines, 50 MB, in 10 s) would bury every other line, so a connection's `DenialLog` writes the first
`whole_lines` denials of each `interval` whole, counts the rest per (action, resource), and writes one
`denied-summary` line per interval with the counts. Nothing goes uncounted: every denial is a whole line or
part of a summary. A summary is written when the next denial comes after its interval, at the connection's
deadline (`due`, which the connection's timer honours) and when the connection closes (`flush`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

authz_log = logging.getLogger("localcore.broker.authz")


def log_denial(
    action: str,
    resource: str,
    client_id: str | None,
    principal: str | None,
    reason: str,
    event: str = "denied",
) -> None:
    """One structured line per denial: the reason AWS never tells the client."""
    authz_log.warning(
        json.dumps(
            {
                "event": event,
                "action": action,
                "resource": resource,
                "client_id": client_id,
                "principal": principal,
                "reason": reason,
            }
        )
    )


class DenialLog:
    """One connection's denials: whole lines first, then per-interval counts."""

    __slots__ = (
        "_counts",
        "_other",
        "_started",
        "_suppressed",
        "_whole",
        "client_id",
        "clock",
        "interval",
        "max_resources",
        "principal",
        "whole_lines",
    )

    def __init__(
        self,
        client_id: str | None,
        principal: str | None,
        clock: Callable[[], float] = time.monotonic,
        *,
        interval: float = 10.0,
        whole_lines: int = 20,
        max_resources: int = 20,
    ) -> None:
        self.client_id = client_id
        self.principal = principal
        self.clock = clock
        self.interval = interval
        self.whole_lines = whole_lines  # per interval
        self.max_resources = max_resources  # (action, resource) pairs counted by name; the rest per action
        self._started: float | None = None  # when the current interval began (its first denial)
        self._whole = 0
        self._suppressed = 0
        self._counts: dict[tuple[str, str], int] = {}
        self._other: dict[str, int] = {}

    def denied(self, action: str, resource: str, reason: str) -> None:
        now = self.clock()
        if self._started is None or now - self._started >= self.interval:
            self.flush()
            self._started = now
        if self._whole < self.whole_lines:
            self._whole += 1
            log_denial(action, resource, self.client_id, self.principal, reason)
            return
        self._suppressed += 1
        key = (action, resource)
        counts = self._counts
        if key in counts:
            counts[key] += 1
        elif len(counts) < self.max_resources:
            counts[key] = 1
        else:
            self._other[action] = self._other.get(action, 0) + 1

    def due(self) -> float | None:
        """When the pending summary should be written (None when nothing is counted)."""
        if not self._suppressed or self._started is None:
            return None
        return self._started + self.interval

    def flush(self) -> None:
        """Write the summary of what was counted, if anything was; the next denial starts a new interval."""
        if self._suppressed and self._started is not None:
            ranked = sorted(self._counts.items(), key=lambda item: -item[1])
            authz_log.warning(
                json.dumps(
                    {
                        "event": "denied-summary",
                        "client_id": self.client_id,
                        "principal": self.principal,
                        "seconds": round(self.clock() - self._started, 3),
                        "logged": self._whole,
                        "suppressed": self._suppressed,
                        "counts": [
                            {"action": action, "resource": resource, "count": count}
                            for (action, resource), count in ranked
                        ],
                        "other_resources": [
                            {"action": action, "count": count}
                            for action, count in sorted(self._other.items())
                        ],
                    }
                )
            )
        self._started = None
        self._whole = 0
        self._suppressed = 0
        self._counts = {}
        self._other = {}
