"""AWS-shaped service errors raised by handlers mounted on the gateway."""

from __future__ import annotations

from typing import ClassVar

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


class CodedError(AwsServiceError):
    """An AWS error whose class name is its code, one class per code (moto's `exceptions.py` shape); a
    subclass sets the HTTP status AWS answers it with."""

    http_status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(type(self).__name__, message, self.http_status)
