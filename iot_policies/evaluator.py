"""Evaluate IoT policy documents for one request, with AWS IoT Core's semantics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """The outcome of one authorization check, always with the reason that decided it."""

    allowed: bool
    action: str
    resource: str
    reason: str  # the deciding statement ("denied by user/Statement[2]") or "no matching allow"
    policy: str | None = None
    statement: int | None = None
    sid: str | None = None
