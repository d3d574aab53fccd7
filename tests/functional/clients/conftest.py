"""Stacks for the client API and CLI tests: a fast scripted model for logic, a slow one to cut and cancel mid-answer.

Each stack's ready file is written exactly as `iotstream up` writes it, so the CLI subprocesses find it the
same way a user's do (`--ready-file` / IOTSTREAM_READY_FILE).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from clients.accounts import sign_in_user
from clients.local_app import local_config
from clients.session import Session
from clients.targets import Target, local_target
from clients.token_cache import TokenCache
from localcore.functions import FunctionSettings
from localcore.iam.private_files import write_private_json
from localcore.testing import RunningLocalcore

ROOT = Path(__file__).resolve().parents[3]
FAST_SCRIPT = "Clients stream answers over MQTT. Every delta arrives in order."
SLOW_SCRIPT = " ".join(f"word{i}" for i in range(60)) + "."
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


def new_user(target: Target, cache: TokenCache | None = None, *, dashboard: bool = False) -> Session:
    """A fresh local user, created on first use like `iotstream chat --user NAME` does."""
    return sign_in_user(target, f"u-{uuid.uuid4().hex[:10]}", cache=cache, dashboard=dashboard)


def cli_environment(tmp_path: Path, ready_file: Path | None = None) -> dict[str, str]:
    """The environment of a user's shell: their own config folder and, when given, the stack's ready file."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("IOTSTREAM_")}
    environment["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    if ready_file is not None:
        environment["IOTSTREAM_READY_FILE"] = str(ready_file)
    return environment


def iotstream(*arguments: str) -> list[str]:
    """The `iotstream` command line (this interpreter, so the test's virtualenv)."""
    return [sys.executable, "-m", "clients.cli", *arguments]


def run_cli(
    arguments: list[str], environment: dict[str, str], cwd: Path, *, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`iotstream …` as a user runs it, from `cwd` outside the repository (the installed package must do)."""
    return subprocess.run(
        iotstream(*arguments),
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def start_cli(
    arguments: list[str], environment: dict[str, str], cwd: Path, ready_line: str, stream: str
) -> tuple[subprocess.Popen[str], str]:
    """Start a long-running `iotstream …` and read its `stream` ("stdout" or "stderr") until a line containing
    `ready_line` (or the end); returns the process and what it printed until then."""
    process = subprocess.Popen(
        iotstream(*arguments),
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output = getattr(process, stream)
    assert output is not None
    seen = ""
    for line in output:
        seen += line
        if ready_line in line:
            break
    return process, seen
