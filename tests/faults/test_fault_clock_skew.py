"""Fault: the client's clock and the service's disagree.

The client signs its WebSocket upgrade with its own clock (`X-Amz-Date`); SigV4 accepts a signature within
5 minutes of the service's time (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html:
"the request time ... must be within 5 minutes"); docs/security.md lists localcore's check. Nothing else the
client sends carries its time: a prompt's age is measured on the service's clocks only (the rule's
`timestamp()` and the function's), so a skewed client never gets `prompt_expired` for it.
Here the service's clock is moved instead of the client's (the same difference).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from clients import Client, PolicyDeniedError
from clients.targets import Target
from localcore.testing import RunningLocalcore
from tests.support.faultkit import SCRIPT, new_user, running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLocalcore, Target]]:
    with running(tmp_path_factory.mktemp("skew"), {}) as pair:
        yield pair


def skewed(core: RunningLocalcore, seconds: float) -> None:
    core.core.identity.clock = lambda: time.time() + seconds


@pytest.mark.parametrize("seconds", [-240, 240])
def test_a_clock_off_by_less_than_five_minutes_streams_as_usual(
    stack: tuple[RunningLocalcore, Target], seconds: float
) -> None:
    """Four minutes either way: the upgrade is accepted and the answer streams whole."""
    core, target = stack
    session = new_user(target)
    skewed(core, seconds)
    try:
        with Client(session) as chat:
            assert chat.ask("hello").wait().text == SCRIPT
    finally:
        skewed(core, 0)


@pytest.mark.parametrize("seconds", [-600, 600])
def test_a_clock_off_by_more_is_refused_at_once_with_the_fix_in_one_line(
    stack: tuple[RunningLocalcore, Target], seconds: float
) -> None:
    """Ten minutes either way: the upgrade gets 403 (AWS says nothing more); the client raises
    PolicyDeniedError at connect, within its timeout, in one line that names the clock as a cause."""
    core, target = stack
    session = new_user(target)
    skewed(core, seconds)
    started = time.monotonic()
    try:
        with pytest.raises(PolicyDeniedError) as refused, Client(session, timeout=10):
            pass
    finally:
        skewed(core, 0)
    message = str(refused.value)
    assert "clock" in message and "5 minutes" in message and "\n" not in message
    assert time.monotonic() - started < 10
