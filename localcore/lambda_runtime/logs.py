"""CloudWatch-Logs-like output per invocation: START, the handler's lines (as they are printed), END, REPORT."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from localcore.lambda_runtime.records import EXECUTED_VERSION, utc_timestamp

LOGGER = logging.getLogger("localcore.lambda")
LineKind = Literal["runtime", "output", "error"]


@dataclass(frozen=True)
class LogLine:
    """One line of a function's log: Lambda's own (`runtime`: START, END, REPORT, ...), one the handler printed
    (`output`, passed on as soon as the worker writes it) or a function error (`error`)."""

    function: str
    kind: LineKind
    text: str


LogListener = Callable[[LogLine], None]


def start_line(request_id: str) -> str:
    return f"START RequestId: {request_id} Version: {EXECUTED_VERSION}"


def end_lines(
    *,
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_duration_ms: float | None = None,
    timeout_seconds: float | None = None,
) -> list[str]:
    """END and REPORT (and the timeout line) Lambda writes after an invocation, in its tab-separated format."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_memory_mb} MB"
    )
    if init_duration_ms is not None:
        report += f"\tInit Duration: {init_duration_ms:.2f} ms"
    lines = [f"END RequestId: {request_id}", report]
    if timeout_seconds is not None:
        lines.append(f"{utc_timestamp()} {request_id} Task timed out after {timeout_seconds:.2f} seconds")
    return lines


class FunctionLog:
    """The last `capacity` log lines of one function, also emitted on the `localcore.lambda` logger and given to
    `listener` as they happen."""

    def __init__(self, function_name: str, capacity: int, listener: LogListener | None = None) -> None:
        self.function_name = function_name
        self._lines: deque[str] = deque(maxlen=capacity)
        self._listener = listener

    def emit(self, lines: Sequence[str]) -> None:
        """Lambda's own lines (INIT_START, START, END, REPORT, ...)."""
        for line in lines:
            self._add(line, "runtime")

    def output(self, line: str) -> None:
        """A line the handler wrote, as soon as the worker wrote it."""
        self._add(line, "output")

    def _add(self, line: str, kind: LineKind) -> None:
        self._lines.append(line)
        LOGGER.info("[%s] %s", self.function_name, line, extra={"function_name": self.function_name})
        if self._listener is not None:
            self._listener(LogLine(self.function_name, kind, line))

    def failed(self, request_id: str, payload: object) -> None:
        """One WARNING per function error, naming the function: a crash must not pass for a slow answer."""
        error = payload if isinstance(payload, dict) else {}
        kind, message = error.get("errorType", "Unhandled"), error.get("errorMessage", "")
        LOGGER.warning(
            "function %s failed (RequestId %s): %s: %s",
            self.function_name,
            request_id,
            kind,
            message,
            extra={"function_name": self.function_name},
        )
        if self._listener is not None:
            self._listener(
                LogLine(self.function_name, "error", f"{kind}: {message} (RequestId {request_id})")
            )

    def recent(self, count: int | None = None) -> list[str]:
        lines = list(self._lines)
        return lines if count is None else lines[-count:]
