"""Stacks and users for the fault tests: a whole localcore with the scripted model, and signed-in users of the
client library (SigV4 WebSockets, persistent sessions), as in tests/functional/clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clients.accounts import sign_in_user
from clients.local_app import local_config
from clients.session import Session
from clients.targets import Target, local_target
from localcore.app import LocalcoreConfig
from localcore.functions import FunctionSettings
from localcore.iam.private_files import write_private_json
from localcore.lambda_runtime import LambdaRuntime
from localcore.testing import RunningLocalcore

SCRIPT = " ".join(f"word{i}" for i in range(60)) + "."
TOKENS_PER_S = 30
"""61 tokens at 30 tokens/s: about 2 s per answer, time to break something mid-answer."""


@contextmanager
def running(
    tmp: Path, environment: Mapping[str, str], **config: Any
) -> Iterator[tuple[RunningLocalcore, Target]]:
    """A localcore whose functions stream `SCRIPT` (unless `environment` says otherwise), retried at once when
    they fail, and the target clients sign in to (its ready file, as `iotstream up` writes it)."""
    functions = FunctionSettings(
        environment={
            "LLM_PROVIDER": "scripted",
            "SCRIPTED_TEXT": SCRIPT,
            "SCRIPTED_TOKENS_PER_S": str(TOKENS_PER_S),
            **environment,
        },
        retry_delays_seconds=(0.05, 0.05),
    )
    stack_config: LocalcoreConfig = local_config(functions=functions, **config)
    with RunningLocalcore(stack_config) as core:
        ready = tmp / f"ready-{uuid.uuid4().hex[:6]}.json"
        write_private_json(ready, core.endpoints)
        yield core, local_target(ready)


def new_user(target: Target) -> Session:
    """A fresh local user, created on first use like `iotstream chat --user NAME` does."""
    return sign_in_user(target, f"u-{uuid.uuid4().hex[:10]}")


def runtime(core: RunningLocalcore) -> LambdaRuntime:
    assert core.core.runtime is not None
    return core.core.runtime
