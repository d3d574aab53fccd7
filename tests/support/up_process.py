"""`iotstream up` as a user runs it: a child process on free ports, its ready file, Ctrl-C at the end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from clients.cli.up import PORT_OPTIONS
from tests.support.cli_process import ROOT

FREE_PORTS = [item for option in PORT_OPTIONS.values() for item in (option, "0")]
"""Every listener of `iotstream up` on a free port (PORT_OPTIONS names them all, so a new one is included)."""


class UpProcess:
    """`with UpProcess(state_dir, "--project", dir) as up:` — `up.endpoints` once it printed "localcore ready"."""

    def __init__(self, state_dir: Path, *args: str, cwd: Path = ROOT) -> None:
        self.ready_file = state_dir / "ready.json"
        self.command = [
            sys.executable,
            "-m",
            "clients.cli",
            "up",
            *FREE_PORTS,
            "--state-dir",
            str(state_dir),
            "--ready-file",
            str(self.ready_file),
            *args,
        ]
        self.cwd = cwd
        self.printed: list[str] = []
        self.stderr = ""
        self.endpoints: dict[str, Any] = {}
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> UpProcess:
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:  # ends at EOF if `up` exits instead
            self.printed.append(line)
            if "localcore ready" in line:
                break
        else:
            _, err = self.process.communicate(timeout=20)
            raise AssertionError(
                f"iotstream up exited {self.process.returncode}: {err}{''.join(self.printed)}"
            )
        self.endpoints = json.loads(self.ready_file.read_text())
        return self

    def read_until(self, contains: str) -> str:
        """The next line it prints that contains `contains` (AssertionError if it exits first)."""
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.printed.append(line)
            if contains in line:
                return line
        raise AssertionError(f"iotstream up printed no line containing {contains!r}")

    def stop(self) -> int:
        """Ctrl-C; the exit status. What it printed afterwards is added to `printed`, its stderr to `stderr`."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        rest, self.stderr = self.process.communicate(timeout=30)
        self.printed.append(rest)
        return self.process.returncode

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        status = self.stop()
        if exc_type is None:
            assert status == 0, f"iotstream up exited {status}"

    @property
    def mqtt_port(self) -> int:
        return int(str(self.endpoints["mqtt"]).rsplit(":", 1)[1])
