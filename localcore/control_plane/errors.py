"""AWS-shaped errors of the IoT control plane (restJson1: HTTP status + error type + message)."""

from __future__ import annotations

from localcore.http.errors import AwsServiceError


class ControlPlaneError(AwsServiceError):
    """An error the IoT API returns: `code` is AWS's exception name, `status` its HTTP status."""


def not_found(what: str) -> ControlPlaneError:
    return ControlPlaneError("ResourceNotFoundException", f"{what} does not exist", 404)


def already_exists(what: str) -> ControlPlaneError:
    return ControlPlaneError("ResourceAlreadyExistsException", f"{what} already exists", 409)


def invalid(message: str) -> ControlPlaneError:
    return ControlPlaneError("InvalidRequestException", message, 400)
