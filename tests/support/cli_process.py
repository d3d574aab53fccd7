"""`iotstream` commands as child processes: run one to its end, or start one and read its lines as they come."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
LINE_TIMEOUT_S = 30.0


def iotstream(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run one `iotstream` command to its end (output captured as text)."""
    return subprocess.run(
        [sys.executable, "-m", "clients.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class Running:
    """`with Running("sub", ...) as sub: sub.wait_line(stderr_contains)` — stdout and stderr read on threads."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clients.cli", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: queue.Queue[str | None] = queue.Queue()
        self.stderr: queue.Queue[str | None] = queue.Queue()
        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            threading.Thread(target=_pump, args=(stream, lines), daemon=True).start()

    def line(self, contains: str, stream: str = "stdout") -> str:
        """The next line of `stream` that contains `contains` (AssertionError at its end or after the timeout)."""
        lines = self.stdout if stream == "stdout" else self.stderr
        while True:
            line = lines.get(timeout=LINE_TIMEOUT_S)
            if line is None:
                raise AssertionError(f"{stream} ended without a line containing {contains!r}")
            if contains in line:
                return line

    def wait(self) -> int:
        return self.process.wait(LINE_TIMEOUT_S)

    def __enter__(self) -> Running:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(LINE_TIMEOUT_S)


def _pump(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line.rstrip("\n"))
    lines.put(None)
