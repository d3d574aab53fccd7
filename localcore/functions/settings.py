"""The project's Lambda functions (`lambdas/iotstream_lambdas/functions.json`) as localcore runs them.

Each function gets its own IAM-style credentials, minted by localcore for an execution role whose policy
is the manifest's `iotPermissions` and `stateTable` access (CDK grants the same: tests/cdk compares them), and
`AWS_ENDPOINT_URL_*` variables, so boto3 inside the handler talks to localcore.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcore.functions.manifest import load_manifest
from localcore.identity.credentials import CredentialStore, Role
from localcore.lambda_runtime import ConcurrencyConfig, FunctionConfig


def _installed_functions() -> tuple[Path | None, Path | None]:
    """iotstream's own functions, the default project: (code root, manifest) of the `iotstream_lambdas`
    package wherever it is installed (a checkout's `lambdas/` or site-packages), found by name without
    importing it, as the Lambda runtime finds a handler; (None, None) when it is not installed."""
    spec = importlib.util.find_spec("iotstream_lambdas")
    if spec is None or spec.origin is None:
        return None, None
    package = Path(spec.origin).resolve().parent
    return package.parent, package / "functions.json"


LAMBDAS_CODE_ROOT, FUNCTIONS_MANIFEST = _installed_functions()
STATE_TABLE = "iotstream-state"  # the functions' STATE_TABLE (CDK names its table; localcore uses this name)
_READ = ("BatchGetItem", "GetRecords", "GetShardIterator", "Query", "GetItem", "Scan", "ConditionCheckItem")
_WRITE = ("BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem")
TABLE_ACCESS_ACTIONS: dict[str, tuple[str, ...]] = {
    "read": tuple(f"dynamodb:{a}" for a in (*_READ, "DescribeTable")),
    "write": tuple(f"dynamodb:{a}" for a in (*_WRITE, "DescribeTable")),
    "readWrite": tuple(f"dynamodb:{a}" for a in (*_READ, *_WRITE, "DescribeTable")),
}
"""The actions of CDK's Table.grantReadData / grantWriteData / grantReadWriteData, by the manifest's
`stateTable` value (tests/cdk/test_cdk_functions.py checks them against the synthesized template)."""


@dataclass(frozen=True)
class FunctionSettings:
    """How localcore runs the functions: where the code is, extra environment, timeouts, retries and the
    account's concurrency limit."""

    code_root: Path = LAMBDAS_CODE_ROOT or Path()
    manifest: Path | None = FUNCTIONS_MANIFEST  # None: no functions
    environment: Mapping[str, str] = field(
        default_factory=dict
    )  # added to every function (e.g. LLM_PROVIDER)
    retry_delays_seconds: tuple[float, ...] = (60.0, 120.0)
    timeout_overrides: Mapping[str, float] = field(default_factory=dict)
    concurrency: ConcurrencyConfig = field(default_factory=ConcurrencyConfig)


def execution_role(name: str, spec: Mapping[str, Any], account: str, table: str) -> Role:
    """The function's role: the manifest's `iotPermissions` and `stateTable` access to `table` as IAM
    statements (what CDK grants too)."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": permission["actions"],
            "Resource": [r if r == "*" else f"arn:aws:iot:*:{account}:{r}" for r in permission["resources"]],
        }
        for permission in spec.get("iotPermissions", [])
    ]
    access = spec.get("stateTable")
    if access is not None:
        if access not in TABLE_ACCESS_ACTIONS:
            raise ValueError(
                f"functions manifest: {name}.stateTable must be one of {sorted(TABLE_ACCESS_ACTIONS)}"
            )
        table_arn = f"arn:aws:dynamodb:*:{account}:table/{table}"
        statements.append(
            {"Effect": "Allow", "Action": list(TABLE_ACCESS_ACTIONS[access]), "Resource": table_arn}
        )
    policy = {"Version": "2012-10-17", "Statement": statements} if statements else {}
    return Role(f"iotstream-{name}-execution", policy, account)


def function_configs(
    settings: FunctionSettings,
    credentials: CredentialStore,
    endpoints: Mapping[str, str],
    account: str,
    function_environment: Mapping[str, Mapping[str, str]] | None = None,
    table: str = STATE_TABLE,
) -> list[FunctionConfig]:
    """One FunctionConfig per manifest entry, with credentials and local endpoints in its environment.

    `function_environment` adds per-function variables: what cdk/stack.py sets for each function, with
    localcore's names for the same resources (e.g. the attach-policy function's pool and role names).
    """
    configs = []
    manifest = {} if settings.manifest is None else load_manifest(settings.manifest, settings.code_root)
    for name, spec in manifest.items():
        issued = credentials.mint_iam(execution_role(name, spec, account, table), name)
        environment = {
            **spec.get("environment", {}),
            **(function_environment or {}).get(name, {}),
            **endpoints,
            **settings.environment,
            "AWS_ACCESS_KEY_ID": issued.access_key_id,
            "AWS_SECRET_ACCESS_KEY": issued.secret_key,
        }
        configs.append(
            FunctionConfig(
                name=name,
                handler=spec["handler"],
                code_root=settings.code_root,
                timeout_seconds=settings.timeout_overrides.get(name, float(spec.get("timeoutSeconds", 3))),
                memory_mb=int(spec.get("memoryMB", 128)),
                reserved_concurrency=spec.get("reservedConcurrency"),
                environment=environment,
                retry_delays_seconds=settings.retry_delays_seconds,
            )
        )
    return configs
