"""AWS-shaped payloads: function errors the service itself reports, and destination records."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from typing import Any

EXECUTED_VERSION = "$LATEST"


def timeout_error(request_id: str, timeout_seconds: float) -> dict[str, Any]:
    """The payload Lambda returns when the handler runs past its timeout."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds",
    }


def exit_error(request_id: str, returncode: int | None) -> dict[str, Any]:
    """The payload Lambda returns when the runtime process exits during an invocation."""
    if returncode is not None and returncode < 0:
        try:
            reason = f"signal: {signal.Signals(-returncode).name.removeprefix('SIG').lower()}"
        except ValueError:
            reason = f"signal: {-returncode}"
    else:
        reason = f"exit status {returncode}"
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
    }


def invalid_response_error(request_id: str, detail: str) -> dict[str, Any]:
    """The payload for a runtime that answered with something unusable (e.g. a response too large)."""
    return {
        "errorType": "Runtime.InvalidResponse",
        "errorMessage": f"RequestId: {request_id} Error: {detail}",
    }


def utc_timestamp() -> str:
    """ISO 8601 with milliseconds and `Z`, as in invocation records (`2020-03-09T22:01:53.075Z`)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def destination_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_payload: Any,
    response_payload: Any = None,
    function_error: str | None = None,
    responded: bool = True,
) -> dict[str, Any]:
    """The invocation record Lambda sends to an async destination.

    See https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html.
    `condition` is `Success`, `RetriesExhausted` or `EventAgeExceeded`. When the event was never run
    (`responded=False`) the response fields are left out.
    """
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": utc_timestamp(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:{EXECUTED_VERSION}",
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": request_payload,
    }
    if responded:
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": EXECUTED_VERSION}
        if function_error is not None:
            response_context["functionError"] = function_error
        record["responseContext"] = response_context
        record["responsePayload"] = response_payload
    return record
