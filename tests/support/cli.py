"""The client API and CLI tests' helpers: scripts the scripted model streams, fresh users, and `iotstream …` run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from clients.accounts import sign_in_user
from clients.session import Session
from clients.targets import Target
from clients.token_cache import TokenCache

ROOT = Path(__file__).resolve().parents[2]


FAST_SCRIPT = "Clients stream answers over MQTT. Every delta arrives in order."


SLOW_SCRIPT = " ".join(f"word{i}" for i in range(60)) + "."


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
