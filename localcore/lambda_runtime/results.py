"""What callers get back: the Invoke response, the fate of an async event, per-function counters."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from localcore.lambda_runtime.records import EXECUTED_VERSION

LOG_RESULT_BYTES = 4096


@dataclass(frozen=True)
class InvocationResult:
    """A RequestResponse Invoke: `payload` is the handler's return value or the AWS error object.

    `function_error` is `"Unhandled"` for every function error (exception, timeout, runtime exit),
    as the `X-Amz-Function-Error` header reports it; `status_code` stays 200 like the Invoke API.
    """

    request_id: str
    function_name: str
    payload: Any
    function_error: str | None
    duration_ms: float
    log_lines: tuple[str, ...]
    init_duration_ms: float | None = None
    status_code: int = 200
    executed_version: str = EXECUTED_VERSION

    @property
    def ok(self) -> bool:
        return self.function_error is None

    @property
    def error_type(self) -> str | None:
        """`errorType` of the error payload, e.g. `ValueError`, `Sandbox.Timedout`, `Runtime.ExitError`."""
        if self.function_error is None or not isinstance(self.payload, dict):
            return None
        value = self.payload.get("errorType")
        return value if isinstance(value, str) else None

    def payload_bytes(self) -> bytes:
        """The payload as the Invoke API's response body."""
        return json.dumps(self.payload).encode()

    def log_result(self) -> str:
        """The last 4 KB of the log, base64-encoded (the Invoke API's `LogResult` with `LogType=Tail`)."""
        text = "\n".join(self.log_lines) + "\n"
        return base64.b64encode(text.encode()[-LOG_RESULT_BYTES:]).decode()


@dataclass(frozen=True)
class AsyncOutcome:
    """How an InvocationType=Event request ended, after its retries.

    `condition` is the destination record's condition: `Success`, `RetriesExhausted` or `EventAgeExceeded`
    (or `Cancelled` when the runtime closed first, which AWS has no equivalent for).
    """

    request_id: str
    function_name: str
    condition: str
    attempts: int
    last_result: InvocationResult | None
    record: dict[str, Any] | None

    @property
    def succeeded(self) -> bool:
        return self.condition == "Success"


@dataclass
class FunctionStats:
    """Counters of one function (like its CloudWatch metrics)."""

    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    throttles: int = 0
    cold_starts: int = 0
    async_events: int = 0
    async_retries: int = 0
    destination_deliveries: int = 0
    destination_failures: int = 0
    workers_started: int = 0
    workers_reclaimed: int = 0
    """Idle workers stopped: idle longer than the idle timeout, or to make room under the account limit."""
