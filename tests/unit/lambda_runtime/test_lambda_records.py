"""AWS-shaped payloads and log lines built by the runtime."""

from __future__ import annotations

import base64
import re

from localcore.lambda_runtime.logs import end_lines, start_line
from localcore.lambda_runtime.records import destination_record, exit_error, timeout_error
from localcore.lambda_runtime.results import InvocationResult


def test_timeout_and_exit_errors_match_lambdas_service_errors() -> None:
    """Timeouts are Sandbox.Timedout and runtime exits Runtime.ExitError, with the request id in the
    message (troubleshooting-invocation.html)."""
    assert timeout_error("r1", 3) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: r1 Error: Task timed out after 3.00 seconds",
    }
    assert (
        exit_error("r1", 1)["errorMessage"] == "RequestId: r1 Error: Runtime exited with error: exit status 1"
    )
    assert exit_error("r1", -9)["errorMessage"].endswith("Runtime exited with error: signal: kill")
    assert exit_error("r1", -11)["errorMessage"].endswith("signal: segv")


def test_failure_record_has_the_documented_fields() -> None:
    """The on-failure invocation record (invocation-async-retain-records.html)."""
    record = destination_record(
        request_id="r1",
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:f",
        condition="RetriesExhausted",
        invoke_count=3,
        request_payload={"a": 1},
        response_payload={"errorMessage": "x", "errorType": "E", "stackTrace": []},
        function_error="Unhandled",
    )
    assert record["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    assert record["requestContext"] == {
        "requestId": "r1",
        "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "E"


def test_record_of_an_event_that_never_ran_has_no_response() -> None:
    """An event discarded before any attempt has no response to report (our choice; AWS docs are silent)."""
    record = destination_record(
        request_id="r1",
        function_arn="arn",
        condition="EventAgeExceeded",
        invoke_count=0,
        request_payload=None,
        responded=False,
    )
    assert "responseContext" not in record and "responsePayload" not in record


def test_report_line_is_tab_separated_with_billed_duration_rounded_up() -> None:
    """REPORT RequestId, Duration, Billed Duration (1 ms granularity), Memory Size, Max Memory Used,
    Init Duration on cold starts (python-logging.html)."""
    end = end_lines(
        request_id="r1", duration_ms=12.341, memory_mb=256, max_memory_mb=40, init_duration_ms=99.5
    )
    lines = [start_line("r1"), "hi", *end]
    assert lines[:3] == ["START RequestId: r1 Version: $LATEST", "hi", "END RequestId: r1"]
    assert lines[3] == (
        "REPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 99.50 ms"
    )


def test_log_result_is_the_base64_tail_of_the_log() -> None:
    """Invoke with LogType=Tail returns the last 4 KB of the log base64-encoded (API_Invoke.html)."""
    result = InvocationResult("r", "f", None, None, 1.0, tuple("x" * 100 for _ in range(100)))
    tail = base64.b64decode(result.log_result())
    assert len(tail) == 4096 and tail.endswith(b"x\n")
