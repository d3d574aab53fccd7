"""CloudWatch-Logs-like output per invocation: START, the handler's lines, END, REPORT."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Sequence

from localcore.lambda_runtime.records import EXECUTED_VERSION, utc_timestamp

LOGGER = logging.getLogger("localcore.lambda")


def invocation_lines(
    *,
    request_id: str,
    output: Sequence[str],
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_duration_ms: float | None = None,
    timeout_seconds: float | None = None,
) -> list[str]:
    """The lines Lambda writes to the log stream for one invocation, in its tab-separated format."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_memory_mb} MB"
    )
    if init_duration_ms is not None:
        report += f"\tInit Duration: {init_duration_ms:.2f} ms"
    lines = [f"START RequestId: {request_id} Version: {EXECUTED_VERSION}", *output]
    lines += [f"END RequestId: {request_id}", report]
    if timeout_seconds is not None:
        lines.append(f"{utc_timestamp()} {request_id} Task timed out after {timeout_seconds:.2f} seconds")
    return lines


class FunctionLog:
    """The last `capacity` log lines of one function, also emitted on the `localcore.lambda` logger."""

    def __init__(self, function_name: str, capacity: int) -> None:
        self.function_name = function_name
        self._lines: deque[str] = deque(maxlen=capacity)

    def emit(self, lines: Sequence[str]) -> None:
        for line in lines:
            self._lines.append(line)
            LOGGER.info("[%s] %s", self.function_name, line, extra={"function_name": self.function_name})

    def failed(self, request_id: str, payload: object) -> None:
        """One WARNING per function error, naming the function: a crash must not pass for a slow answer."""
        error = payload if isinstance(payload, dict) else {}
        LOGGER.warning(
            "function %s failed (RequestId %s): %s: %s",
            self.function_name,
            request_id,
            error.get("errorType", "Unhandled"),
            error.get("errorMessage", ""),
            extra={"function_name": self.function_name},
        )

    def recent(self, count: int | None = None) -> list[str]:
        lines = list(self._lines)
        return lines if count is None else lines[-count:]
