"""AWS-shaped service errors raised by handlers mounted on the gateway."""

from __future__ import annotations

from localcore.errors import LocalcoreError


class AwsServiceError(LocalcoreError):
    """An error the gateway renders the way AWS does: `code` (e.g. NotAuthorizedException), status, message.

    JSON 1.1 services answer `{"__type": code, "message": ...}`; restJson1 services answer
    `{"message": ...}` with the `x-amzn-ErrorType: code` header. Botocore raises `ClientError` with
    `Error.Code == code` for both.
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def invalid_parameter(message: str) -> AwsServiceError:
    """The common 400 for a missing or malformed request field."""
    return AwsServiceError("InvalidParameterException", message)


def not_authorized(message: str) -> AwsServiceError:
    """Cognito's 400 for bad credentials, tokens or disabled flows."""
    return AwsServiceError("NotAuthorizedException", message)


def resource_not_found(message: str) -> AwsServiceError:
    """A pool, client, group or identity that does not exist."""
    return AwsServiceError("ResourceNotFoundException", message)
