"""The single sources of truth the stack reads: IoT/IAM policy documents and the functions manifest.

Nothing here imports aws_cdk: the documents are loaded and checked as plain JSON, so their `${...}` policy
variables reach CloudFormation untouched (never through `Fn::Sub`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clients.deployment import DeploySourceError

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLE_ACCESS = ("read", "write", "readWrite")
"""`stateTable` of a function: what it may do on the state table (CDK's grantReadData / grantWriteData /
grantReadWriteData; localcore gives its execution role the same actions, `localcore.functions`)."""
IOT_POLICY_FILES = {"user": "user.json", "dashboard": "dashboard.json"}
ROLE_POLICY_FILES = {"authenticated": "role-authenticated.json", "dashboard": "role-dashboard.json"}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DeploySourceError(str(path), "file not found") from None
    except json.JSONDecodeError as error:
        raise DeploySourceError(str(path), f"not valid JSON ({error})") from None


def read_policy_document(path: Path) -> dict[str, Any]:
    """A policy document: an object with a non-empty `Statement` list (IoT and IAM share the grammar)."""
    document = _read_json(path)
    if not isinstance(document, dict):
        raise DeploySourceError(str(path), "a policy document must be a JSON object")
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise DeploySourceError(str(path), "a policy document needs a non-empty Statement list")
    return document


@dataclass(frozen=True)
class PolicySources:
    """The four documents from `iot_policies/`: two IoT policies and two IAM role policies."""

    iot: Mapping[str, dict[str, Any]]  # "user", "dashboard"
    roles: Mapping[str, dict[str, Any]]  # "authenticated", "dashboard"

    @classmethod
    def load(cls, folder: Path) -> PolicySources:
        return cls(
            iot={kind: read_policy_document(folder / name) for kind, name in IOT_POLICY_FILES.items()},
            roles={kind: read_policy_document(folder / name) for kind, name in ROLE_POLICY_FILES.items()},
        )


@dataclass(frozen=True)
class IotPermission:
    """IoT actions a function's execution role may take, on resources named after the IoT ARN prefix
    (`topic/chat/*/response/*`) or `*`."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


def _iot_permissions(source: str, name: str, entry: Any) -> tuple[IotPermission, ...]:
    permissions = []
    for index, raw in enumerate(entry.get("iotPermissions", [])):
        place = f"{name}.iotPermissions[{index}]"
        actions, resources = (
            raw.get(key) if isinstance(raw, dict) else None for key in ("actions", "resources")
        )
        if not isinstance(actions, list) or not all(
            isinstance(a, str) and a.startswith("iot:") for a in actions
        ):
            raise DeploySourceError(source, f"{place}.actions: must be a list of iot:* actions")
        if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
            raise DeploySourceError(source, f"{place}.resources: must be a list of resource names")
        permissions.append(IotPermission(tuple(actions), tuple(resources)))
    return tuple(permissions)


@dataclass(frozen=True)
class FunctionSpec:
    """One entry of `lambdas/iotstream_lambdas/functions.json`."""

    name: str
    handler: str
    description: str
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]
    iot_permissions: tuple[IotPermission, ...] = ()
    reserved_concurrency: int | None = None
    """`ReservedConcurrentExecutions`; None uses the account's unreserved concurrency."""
    state_table: str | None = None  # one of TABLE_ACCESS


def _positive_int(source: str, place: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DeploySourceError(source, f"{place}: must be a positive integer")
    return value


def _function_spec(source: str, name: str, entry: Any) -> FunctionSpec:
    if not isinstance(entry, dict):
        raise DeploySourceError(source, f"{name}: must be an object")
    handler = entry.get("handler")
    if not isinstance(handler, str) or handler.count(".") < 1:
        raise DeploySourceError(source, f"{name}.handler: must look like 'module.function'")
    environment = entry.get("environment", {})
    if not isinstance(environment, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in environment.items()
    ):
        raise DeploySourceError(source, f"{name}.environment: must map strings to strings")
    state_table = entry.get("stateTable")
    if state_table is not None and state_table not in TABLE_ACCESS:
        raise DeploySourceError(source, f"{name}.stateTable: must be one of {', '.join(TABLE_ACCESS)}")
    return FunctionSpec(
        name=name,
        handler=handler,
        description=str(entry.get("description", "")),
        timeout_seconds=_positive_int(source, f"{name}.timeoutSeconds", entry.get("timeoutSeconds")),
        memory_mb=_positive_int(source, f"{name}.memoryMB", entry.get("memoryMB")),
        environment=dict(environment),
        iot_permissions=_iot_permissions(source, name, entry),
        reserved_concurrency=_reserved(source, name, entry.get("reservedConcurrency")),
        state_table=state_table,
    )


def _reserved(source: str, name: str, value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DeploySourceError(source, f"{name}.reservedConcurrency: must be a whole number of 0 or more")
    return value


def load_functions(manifest: Path) -> dict[str, FunctionSpec]:
    """Every function of the manifest, by logical name (the name rules use)."""
    document = _read_json(manifest)
    if not isinstance(document, dict) or not document:
        raise DeploySourceError(str(manifest), "must be a non-empty object of functions by name")
    return {name: _function_spec(str(manifest), name, entry) for name, entry in document.items()}
