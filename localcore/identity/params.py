"""Reading a Cognito JSON request body in the API layer: required members, strings, attribute lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localcore.identity.exceptions import InvalidParameterException


def require(params: Mapping[str, object], *names: str) -> None:
    """InvalidParameterException for a missing required member, as the service's validation does."""
    for name in names:
        value = params.get(name)
        if value is None or value == "":
            raise InvalidParameterException(f"Missing required parameter {name}")


def str_param(params: Mapping[str, object], name: str) -> str:
    """A required string member."""
    require(params, name)
    value = params[name]
    if not isinstance(value, str):
        raise InvalidParameterException(f"{name} must be a string")
    return value


def attributes(params: Mapping[str, Any], name: str = "UserAttributes") -> dict[str, str]:
    """An AttributeType list (`[{"Name": ..., "Value": ...}]`) as a dict; absent or null is empty."""
    return {item["Name"]: item["Value"] for item in params.get(name) or []}
