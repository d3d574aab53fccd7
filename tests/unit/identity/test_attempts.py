"""Cognito's limits on guessing, with a hand-moved clock: the sign-in lockout as AWS documents it
(https://docs.aws.amazon.com/cognito/latest/developerguide/authentication.html#authentication-flow-lockout-behavior)
and the confirmation-code limit (5 wrong codes an hour, the strict end of
https://docs.aws.amazon.com/cognito/latest/developerguide/how-to-recover-a-user-account.html)."""

from __future__ import annotations

import pytest

from localcore.http.errors import AwsServiceError
from localcore.identity.attempts import CodeAttempts, SignInLockout

KEY = ("pool", "alice")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def locked(lockout: SignInLockout) -> bool:
    try:
        lockout.check(KEY)
    except AwsServiceError as error:
        assert (error.code, error.message) == ("NotAuthorizedException", "Password attempts exceeded")
        return True
    return False


def test_lockout_starts_after_five_failures_and_doubles() -> None:
    """2^(n-5) seconds after the n-th failure (n >= 5); attempts during a lockout do not lengthen it."""
    clock = Clock()
    lockout = SignInLockout(clock)
    for _ in range(4):
        assert not locked(lockout)
        lockout.failed(KEY)
    assert not locked(lockout)
    lockout.failed(KEY)  # 5th: 1 s
    for expected in (1.0, 2.0, 4.0):
        assert locked(lockout) and locked(lockout)  # repeated attempts change nothing
        clock.now += expected - 0.01
        assert locked(lockout)
        clock.now += 0.02
        assert not locked(lockout)
        lockout.failed(KEY)


def test_lockout_is_capped_near_fifteen_minutes_and_reset_by_quiet_or_success() -> None:
    clock = Clock()
    lockout = SignInLockout(clock)
    for _ in range(30):
        lockout.failed(KEY)
    clock.now += 899
    assert locked(lockout)
    clock.now += 2
    assert not locked(lockout)  # the cap: about 15 minutes, not 2^25 s
    clock.now += 900  # 15 minutes without any attempt: back to zero
    assert not locked(lockout)
    lockout.failed(KEY)
    assert not locked(lockout)
    for _ in range(5):
        lockout.failed(KEY)
    clock.now += 2
    lockout.succeeded(KEY)
    lockout.failed(KEY)
    assert not locked(lockout)


def test_five_wrong_codes_an_hour() -> None:
    clock = Clock()
    codes = CodeAttempts(clock)
    for _ in range(5):
        codes.check(KEY)
        codes.failed(KEY)
        clock.now += 60
    with pytest.raises(AwsServiceError) as limited:
        codes.check(KEY)
    assert limited.value.code == "LimitExceededException"
    clock.now += 3600 - 5 * 60 + 1  # the first wrong code is an hour old
    codes.check(KEY)
