"""The functions manifest (`functions.json`): one entry per Lambda function, checked field by field at load.

    {"telemetry": {"handler": "handlers.telemetry.handler", "timeoutSeconds": 10, "memoryMB": 256,
                   "environment": {"TABLE": "readings"},
                   "iotPermissions": [{"actions": ["iot:Publish"], "resources": ["topic/alerts/*"]}]}}

The handler code lives beside the manifest (the code root is the manifest's folder, unless given). Every
field is documented in docs/localcore.md ("The functions manifest"). A malformed manifest raises
`ManifestError` in one line naming the file and the field, before anything starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcore.errors import LocalcoreError
from localcore.lambda_runtime import FunctionConfig, InvalidFunctionConfig
from localcore.lambda_runtime.config import HandlerName
from localcore.lambda_runtime.environment import RESERVED_VARIABLES

FIELDS = (
    "handler",
    "description",
    "timeoutSeconds",
    "memoryMB",
    "environment",
    "reservedConcurrency",
    "iotPermissions",
    "stateTable",
)
TABLE_ACCESS = ("read", "write", "readWrite")
_VARIABLE = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")  # Lambda's rule for environment variable keys
_FIELD_OF_CONFIG = {
    "handler": "handler",
    "timeout_seconds": "timeoutSeconds",
    "memory_mb": "memoryMB",
    "reserved_concurrency": "reservedConcurrency",
    "name": "(name)",
}


class ManifestError(LocalcoreError, ValueError):
    """The functions manifest cannot be used; the message names the file, the function and the field."""


def load_manifest(path: Path, code_root: Path | None = None) -> dict[str, dict[str, Any]]:
    """The manifest's entries by function name, each checked (its handler module must exist in `code_root`,
    default: the manifest's folder)."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: the functions manifest does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot read the functions manifest ({error})") from None
    except (ValueError, RecursionError) as error:
        raise ManifestError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: the functions manifest must be a JSON object of functions by name")
    root = code_root or path.parent
    for name, spec in manifest.items():
        _check_function(path, root, name, spec)
    return manifest


def _check_function(path: Path, root: Path, name: str, spec: Any) -> None:
    def fail(field: str, reason: str) -> ManifestError:
        return ManifestError(f"{path}: {name}.{field}: {reason}")

    if not isinstance(spec, dict):
        raise ManifestError(f"{path}: {name}: each function is a JSON object")
    unknown = sorted(set(spec) - set(FIELDS))
    if unknown:
        raise fail(unknown[0], f"unknown field; a function has {', '.join(FIELDS)}")
    environment = spec.get("environment", {})
    if not isinstance(environment, dict) or not all(isinstance(v, str) for v in environment.values()):
        raise fail("environment", "an object of string values")
    for key in environment:
        if not _VARIABLE.fullmatch(key) or key in RESERVED_VARIABLES:
            raise fail(f"environment.{key}", "not a name Lambda accepts (letters, digits, _; not reserved)")
    if spec.get("stateTable") not in (None, *TABLE_ACCESS):
        raise fail("stateTable", f"one of {', '.join(TABLE_ACCESS)}")
    _check_permissions(spec.get("iotPermissions", []), fail)
    try:
        config = FunctionConfig(
            name=name,
            handler=_string(spec.get("handler"), fail("handler", "required: 'module.function'")),
            code_root=root,
            timeout_seconds=_number(
                spec.get("timeoutSeconds", 3), fail("timeoutSeconds", "a number of seconds")
            ),
            memory_mb=_integer(spec.get("memoryMB", 128), fail("memoryMB", "a whole number of MB")),
            reserved_concurrency=None
            if spec.get("reservedConcurrency") is None
            else _integer(spec["reservedConcurrency"], fail("reservedConcurrency", "a whole number")),
        )
    except InvalidFunctionConfig as error:
        raise fail(_FIELD_OF_CONFIG.get(error.field or "", "handler"), str(error)) from None
    module = HandlerName.parse(config.handler).module.replace(".", "/")
    if not (root / f"{module}.py").is_file() and not (root / module / "__init__.py").is_file():
        raise fail("handler", f"no module {module}.py (or {module}/__init__.py) in the code root {root}")


def _check_permissions(permissions: Any, fail: Callable[[str, str], ManifestError]) -> None:
    if not isinstance(permissions, list):
        raise fail("iotPermissions", 'a list of {"actions": [...], "resources": [...]}')
    for index, permission in enumerate(permissions):
        actions = permission.get("actions") if isinstance(permission, dict) else None
        resources = permission.get("resources") if isinstance(permission, dict) else None
        if not isinstance(actions, list) or not all(
            isinstance(a, str) and a.startswith("iot:") for a in actions
        ):
            raise fail(f"iotPermissions[{index}].actions", "a list of iot:* actions")
        if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
            raise fail(f"iotPermissions[{index}].resources", "a list of resources (topic/..., client/..., *)")


def _string(value: Any, error: ManifestError) -> str:
    if not isinstance(value, str):
        raise error
    return value


def _number(value: Any, error: ManifestError) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error
    return float(value)


def _integer(value: Any, error: ManifestError) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error
    return value
