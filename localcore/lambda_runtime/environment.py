"""The environment of a worker process: like a Lambda sandbox, nothing leaks in from the host."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from localcore.lambda_runtime.config import FunctionConfig

RUNTIME_NAME = f"python{sys.version_info.major}.{sys.version_info.minor}"
_HOST_VARIABLES = ("PATH", "HOME", "TMPDIR", "SYSTEMROOT")
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
"""Variables Lambda sets itself and refuses in a function's configuration (configuration-envvars.html)."""


def worker_environment(
    config: FunctionConfig, base: Mapping[str, str], *, region: str, log_stream_name: str
) -> dict[str, str]:
    """Host basics < localcore's base (credentials, endpoints) < the function's own < Lambda's reserved."""
    env = {name: os.environ[name] for name in _HOST_VARIABLES if name in os.environ}
    env.update({"LANG": "en_US.UTF-8", "TZ": ":UTC", "PYTHONUNBUFFERED": "1"})
    env.update(base)
    env.update(config.environment)
    code_root = str(config.code_root.resolve())
    env.update(
        {
            "_HANDLER": config.handler,
            "LAMBDA_TASK_ROOT": code_root,
            "PYTHONPATH": code_root,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{RUNTIME_NAME}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group_name(config.name),
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
        }
    )
    return env


def log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"
