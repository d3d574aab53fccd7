"""The IoT service's errors, one class per AWS error code (restJson1: HTTP status + error type + message).

Codes and statuses as the API reference gives them for each operation
(https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html, `API_CreatePolicyVersion`,
`API_DeletePolicy`, `API_AttachPolicy`, `API_CreateTopicRule`, and for iot-data
https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_Publish.html).
"""

from __future__ import annotations

from localcore.http.errors import CodedError


class IotError(CodedError):
    """Any error the IoT control plane or iot-data answers."""


class InvalidRequestException(IotError):
    http_status = 400


class MalformedPolicyException(IotError):
    http_status = 400


class SqlParseException(IotError):
    http_status = 400


class ForbiddenException(IotError):
    """iot-data: the caller's policies do not allow the publish."""

    http_status = 403


class ResourceNotFoundException(IotError):
    http_status = 404


class ResourceAlreadyExistsException(IotError):
    http_status = 409


class DeleteConflictException(IotError):
    http_status = 409


class VersionsLimitExceededException(IotError):
    http_status = 409


class LimitExceededException(IotError):
    http_status = 410


class RequestEntityTooLargeException(IotError):
    """iot-data: the payload is over 128 KB."""

    http_status = 413


def not_found(what: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"{what} does not exist")


def already_exists(what: str) -> ResourceAlreadyExistsException:
    return ResourceAlreadyExistsException(f"{what} already exists")
