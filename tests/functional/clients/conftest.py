"""Stacks for the client API and CLI tests: a fast scripted model for logic, a slow one to cut and cancel mid-answer.

Each stack's ready file is written exactly as `iotstream up` writes it, so the CLI subprocesses find it the
same way a user's do (`--ready-file` / IOTSTREAM_READY_FILE).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.local_app import local_config
from clients.targets import Target, local_target
from clients.token_cache import TokenCache
from localcore.functions import FunctionSettings
from localcore.iam.private_files import write_private_json
from localcore.testing import RunningLocalcore
from tests.support.cli import (
    FAST_SCRIPT,
    SLOW_SCRIPT,
)

SLOW_TOKENS_PER_S = 30  # 61 tokens: about 2 s per answer, time to cut the socket or cancel mid-answer


_STACKS: dict[str, tuple[RunningLocalcore, Target]] = {}


def _stack(name: str, script: str, tokens_per_s: int, ready: Path) -> tuple[RunningLocalcore, Target]:
    """The stack `name`, started on first use and kept until this folder's last test (see below)."""
    if name not in _STACKS:
        functions = FunctionSettings(
            environment={
                "LLM_PROVIDER": "scripted",
                "SCRIPTED_TEXT": script,
                "SCRIPTED_TOKENS_PER_S": str(tokens_per_s),
                "DASHBOARD_INTERVAL_MS": "200",
            },
            retry_delays_seconds=(0.05, 0.05),
        )
        core = RunningLocalcore(local_config(functions=functions)).start()
        write_private_json(ready, core.endpoints)
        _STACKS[name] = (core, local_target(ready))
    return _STACKS[name]


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the stacks after this folder's last test. `scope="package"` would keep them (and their Lambda
    workers) for the whole session: this folder is not a Python package (it must not be: the test modules
    would then be imported as `clients.…` and shadow the real package)."""
    if nextitem is None or nextitem.path.parent != item.path.parent:
        while _STACKS:
            _STACKS.popitem()[1][0].stop()


@pytest.fixture
def fast(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunningLocalcore, Target]:
    return _stack("fast", FAST_SCRIPT, 2000, tmp_path_factory.getbasetemp() / "clients-fast-ready.json")


@pytest.fixture
def slow(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunningLocalcore, Target]:
    return _stack(
        "slow", SLOW_SCRIPT, SLOW_TOKENS_PER_S, tmp_path_factory.getbasetemp() / "clients-slow-ready.json"
    )


@pytest.fixture
def cache(tmp_path: Path) -> TokenCache:
    return TokenCache(tmp_path / "config" / "tokens.json")
