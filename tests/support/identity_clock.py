"""Move localcore's identity clock (credential expiry, SigV4 handshake checks) for a test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from localcore.testing import RunningLocalcore


@contextmanager
def identity_clock_shifted(core: RunningLocalcore, seconds: float) -> Iterator[None]:
    """Move localcore's identity clock (credential expiry, SigV4 handshake checks) forward, then back."""
    identity = core.core.identity
    identity.clock = lambda: time.time() + seconds
    try:
        yield
    finally:
        identity.clock = time.time
