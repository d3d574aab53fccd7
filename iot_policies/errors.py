"""The root of every iot_policies error."""

from __future__ import annotations


class PolicyError(Exception):
    """Base class for policy errors; subclasses carry structured fields."""


class PolicyDocumentError(PolicyError):
    """A policy document is malformed: `place` names the offending element (e.g. `Statement[1].Effect`)."""

    def __init__(self, message: str, place: str = "", policy: str = "") -> None:
        self.message = message
        self.place = place
        self.policy = policy
        where = f"{place}: " if place else ""
        named = f"policy '{policy}': " if policy else ""
        super().__init__(f"{named}{where}{message}")


class UnknownActionError(PolicyError):
    """An action that has no resource ARN form known to this package."""

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"no resource type is known for action {action!r}")


class UnknownPolicyError(PolicyError):
    """A shipped policy name that does not exist."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"no shipped policy named {name!r} (known: {', '.join(known)})")
