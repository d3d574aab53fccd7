"""The clients package's errors: one root, one subclass per thing a user must do something different about.

Every message is one line a person can act on; the CLI prints `str(error)` and exits non-zero.
"""

from __future__ import annotations


class IotstreamClientError(Exception):
    """Root of every error the iotstream client library raises."""


class ClientConfigError(IotstreamClientError):
    """The endpoints description (ready file, CDK outputs) is missing something."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class StackNotRunningError(IotstreamClientError):
    """No stack answers where the configuration points (no ready file, or nothing listening behind it)."""


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


class WrongPasswordError(SignInError):
    """Cognito refused the user name and password (NotAuthorizedException)."""


class PasswordRequiredError(SignInError):
    """No saved sign-in and no way to ask for the password (not a terminal, no IOTSTREAM_PASSWORD)."""


class PolicyDeniedError(IotstreamClientError):
    """The broker refused a CONNECT, SUBSCRIBE or PUBLISH (MQTT 5 reason code, e.g. 0x87 Not authorized)."""

    def __init__(self, message: str, reason_code: int | None = None) -> None:
        super().__init__(message)
        self.reason_code = reason_code


class ClientTimeoutError(IotstreamClientError, TimeoutError):
    """Nothing arrived in time: CONNACK, SUBACK, PUBACK, or the next event of an answer."""


class ServiceError(IotstreamClientError):
    """The service answered with an `error` event; `code` is the protocol's stable code (docs/protocol.md)."""

    def __init__(self, code: str, message: str, rid: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.rid = rid


class PromptError(IotstreamClientError, ValueError):
    """The prompt cannot be sent as it is (e.g. larger than AWS IoT's 128 KB payload limit)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
