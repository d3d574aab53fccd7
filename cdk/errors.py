"""The one error root of the CDK app."""

from __future__ import annotations


class DeploySourceError(ValueError):
    """A source file the stack is built from (policies, rules, functions manifest) is missing or malformed."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
