"""The clients package's errors: one root, structured fields."""

from __future__ import annotations


class IotstreamClientError(Exception):
    """Root of every error the iotstream client library raises."""


class ClientConfigError(IotstreamClientError):
    """The endpoints description (ready file, CDK outputs) is missing something."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class AttachPolicyError(IotstreamClientError):
    """The attach-policy function URL refused or failed."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"attach-policy returned HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


class SignInError(IotstreamClientError):
    """Cognito did not finish the sign-in (e.g. a challenge this client does not answer)."""

    def __init__(self, username: str, message: str) -> None:
        super().__init__(f"{username}: {message}")
        self.username = username
