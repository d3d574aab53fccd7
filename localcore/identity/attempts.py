"""Cognito's limits on guessing: the sign-in lockout and the confirmation-code attempt limit.

Both are kept per (user pool, username) whether or not the user exists, so the answers for an unknown name
are the same as for a real one (PreventUserExistenceErrors). Both use the identity service's clock.

- Sign-in lockout, as AWS documents it ("Lockout behavior for failed sign-in attempts",
  https://docs.aws.amazon.com/cognito/latest/developerguide/authentication.html#authentication-flow-lockout-behavior):
  after five failed sign-ins with a password the user is locked out for 2^(n-5) seconds (n: failed attempts
  so far, not counting attempts made during a lockout), up to about 15 minutes; attempts during a lockout get
  `NotAuthorizedException: Password attempts exceeded` and do not lengthen it; a successful sign-in after the
  lockout, or 15 minutes without any attempt, starts again from zero.
- Confirmation codes: AWS documents no number for ConfirmSignUp. For codes it documents "between 5 and 20
  attempts" per user per hour (forgot-password codes,
  https://docs.aws.amazon.com/cognito/latest/developerguide/how-to-recover-a-user-account.html); localcore
  takes the strictest reading, 5 wrong codes per hour, then `LimitExceededException` until the oldest of them
  is an hour old (the right code included: no guess is checked meanwhile).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from localcore.identity.exceptions import LimitExceededException, NotAuthorizedException

Key = tuple[str, str]  # (user pool id, username)
FREE_FAILURES = 5
MAX_LOCKOUT_SECONDS = 900.0  # "a maximum of approximately 15 minutes"
QUIET_RESET_SECONDS = 900.0  # "not initiate any sign-in attempts for 15 consecutive minutes"
CODE_FAILURES_PER_HOUR = 5
MAX_TRACKED = 100_000  # names tracked at once; the least recently tried are forgotten first

V = TypeVar("V")


class _Recent(Generic[V]):
    """A bounded map that forgets the least recently used keys."""

    def __init__(self, make: Callable[[], V], limit: int = MAX_TRACKED) -> None:
        self._make = make
        self._limit = limit
        self._entries: OrderedDict[Key, V] = OrderedDict()

    def get(self, key: Key) -> V:
        entry = self._entries.pop(key, None)
        self._entries[key] = entry if entry is not None else self._make()
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)
        return self._entries[key]

    def forget(self, key: Key) -> None:
        self._entries.pop(key, None)


@dataclass
class _SignIns:
    failures: int = 0
    locked_until: float = 0.0
    last_attempt: float = float("-inf")


class SignInLockout:
    """`check` before looking at a password, then `failed` or `succeeded`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._users: _Recent[_SignIns] = _Recent(_SignIns)

    def check(self, key: Key) -> None:
        """NotAuthorizedException "Password attempts exceeded" while locked out; counts as an attempt."""
        now = self._clock()
        state = self._users.get(key)
        if state.failures >= FREE_FAILURES and now - state.last_attempt >= QUIET_RESET_SECONDS:
            state.failures = 0
        state.last_attempt = now
        if now < state.locked_until:
            raise NotAuthorizedException("Password attempts exceeded")

    def failed(self, key: Key) -> None:
        state = self._users.get(key)
        state.failures += 1
        if state.failures >= FREE_FAILURES:
            lockout = min(2.0 ** (state.failures - FREE_FAILURES), MAX_LOCKOUT_SECONDS)
            state.locked_until = self._clock() + lockout

    def succeeded(self, key: Key) -> None:
        self._users.forget(key)


@dataclass
class _Codes:
    failures: deque[float] = field(default_factory=deque)


class CodeAttempts:
    """`check` before comparing a confirmation code, `failed` after a wrong one."""

    def __init__(self, clock: Callable[[], float], window_seconds: float = 3600.0) -> None:
        self._clock = clock
        self._window = window_seconds
        self._users: _Recent[_Codes] = _Recent(_Codes)

    def check(self, key: Key) -> None:
        """LimitExceededException once the hour's wrong codes are used up."""
        failures = self._users.get(key).failures
        while failures and failures[0] <= self._clock() - self._window:
            failures.popleft()
        if len(failures) >= CODE_FAILURES_PER_HOUR:
            raise LimitExceededException("Attempt limit exceeded, please try after some time.")

    def failed(self, key: Key) -> None:
        self._users.get(key).failures.append(self._clock())

    def succeeded(self, key: Key) -> None:
        self._users.forget(key)
