"""Cognito error helpers: AwsServiceError factories with the codes and messages AWS uses."""

from __future__ import annotations

from localcore.http.errors import AwsServiceError


def cognito_error(code: str, message: str) -> AwsServiceError:
    """Every Cognito error is HTTP 400 with a JSON 1.1 `__type` (except internal failures)."""
    return AwsServiceError(code, message, 400)


def require(params: dict[str, object], *names: str) -> None:
    """InvalidParameterException for a missing required member, as the service's validation does."""
    for name in names:
        value = params.get(name)
        if value is None or value == "":
            raise cognito_error("InvalidParameterException", f"Missing required parameter {name}")


def str_param(params: dict[str, object], name: str) -> str:
    """A required string member."""
    require(params, name)
    value = params[name]
    if not isinstance(value, str):
        raise cognito_error("InvalidParameterException", f"{name} must be a string")
    return value
