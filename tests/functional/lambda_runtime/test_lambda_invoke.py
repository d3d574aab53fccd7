"""RequestResponse invokes on real worker subprocesses: payloads, error shapes, context, environment, logs."""

from __future__ import annotations

import logging
import os

import pytest

from localcore.errors import LocalcoreError
from localcore.lambda_runtime import (
    InvalidRequestContentException,
    LambdaRuntime,
    ResourceNotFoundException,
)
from tests.support.lambda_helpers import CODE_ROOT, LOCAL_ENV, function, run


def test_echo_returns_the_handler_value_and_cloudwatch_style_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Invoke returns the handler's return value; the log stream has START, output, END, REPORT.

    https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html (log format, REPORT fields).
    """

    async def scenario():
        async with LambdaRuntime([function("echo", "basic.echo")], LOCAL_ENV) as runtime:
            result = await runtime.invoke("echo", {"hello": "world"})
            return result, runtime.recent_logs("echo")

    with caplog.at_level(logging.INFO, logger="localcore.lambda"):
        result, recent = run(scenario())
    assert result.ok and result.function_error is None and result.status_code == 200
    assert result.payload == {"event": {"hello": "world"}, "request_id": result.request_id}
    rid = result.request_id
    lines = list(result.log_lines)
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert "echo got {'hello': 'world'}" in lines
    warning = f"\t{rid}\twarning from the handler"
    assert any(line.startswith("[WARNING]\t") and line.endswith(warning) for line in lines)
    assert lines[-2] == f"END RequestId: {rid}"
    report = lines[-1].split("\t")
    assert report[0] == f"REPORT RequestId: {rid}"
    assert report[1].startswith("Duration: ") and report[2].startswith("Billed Duration: ")
    assert report[3] == "Memory Size: 128 MB" and report[4].startswith("Max Memory Used: ")
    assert report[5].startswith("Init Duration: "), "the first invocation is a cold start"
    assert "init: basic module imported" in recent, "init-phase output is in the function's log"
    assert recent[-len(lines) :] == lines
    assert any(rid in record.getMessage() for record in caplog.records if record.name == "localcore.lambda")


def test_handler_exception_is_an_unhandled_function_error_with_aws_shape() -> None:
    """A raised exception becomes {errorMessage, errorType, stackTrace} with X-Amz-Function-Error Unhandled.

    https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
    """

    async def scenario():
        async with LambdaRuntime([function("fail", "basic.raise_error")], LOCAL_ENV) as runtime:
            first = await runtime.invoke("fail", {"why": "bad input"})
            second = await runtime.invoke("fail", {})
            return first, second, runtime.stats("fail")

    first, second, stats = run(scenario())
    assert first.function_error == "Unhandled" and first.status_code == 200
    assert first.payload["errorMessage"] == "boom: bad input"
    assert first.payload["errorType"] == "ValueError" == first.error_type
    assert first.payload["requestId"] == first.request_id
    trace = first.payload["stackTrace"]
    assert isinstance(trace, list) and all(isinstance(frame, str) for frame in trace)
    assert len(trace) == 1 and "basic.py" in trace[0] and "in raise_error" in trace[0], "no runtime frames"
    assert "[ERROR] ValueError: boom: bad input" in first.log_lines
    assert second.payload["errorMessage"] == "boom: no reason"
    assert stats.cold_starts == 1, "a handled exception does not discard the warm sandbox"
    assert stats.errors == 2 and stats.invocations == 2


def test_context_object_has_the_python_runtime_fields_and_a_countdown() -> None:
    """The context carries request id, function name/version/ARN, memory, log group/stream, and
    get_remaining_time_in_millis counts down to the timeout.

    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    """

    async def scenario():
        config = function("ctx", "basic.context_dump", timeout_seconds=2, memory_mb=256)
        async with LambdaRuntime([config], LOCAL_ENV, account_id="123456789012") as runtime:
            return await runtime.invoke("ctx", {})

    result = run(scenario())
    ctx = result.payload
    assert ctx["aws_request_id"] == result.request_id
    assert ctx["function_name"] == "ctx" and ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:ctx"
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["log_group_name"] == "/aws/lambda/ctx"
    assert "/[$LATEST]" in ctx["log_stream_name"]
    # AWS's runtime always builds `identity` (fields None without a mobile-SDK Cognito caller), awslambdaric
    # lambda_context.py; `client_context` and `tenant_id` are None.
    assert ctx["identity"] == {"cognito_identity_id": None, "cognito_identity_pool_id": None}
    assert ctx["client_context"] is None and ctx["tenant_id"] is None
    first, second = ctx["remaining"]
    assert 0 < second < first <= 2000, "remaining time decreases towards the 2 s timeout"


def test_worker_environment_is_the_lambda_sandbox_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda's reserved variables are set, localcore's base and the function's variables pass through,
    the host's variables do not leak in, and the code root is first on sys.path and the cwd.

    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    """
    monkeypatch.setenv("HOST_ONLY_SECRET", "must-not-leak")
    base = {**LOCAL_ENV, "AWS_ENDPOINT_URL_IOT_DATA_PLANE": "http://127.0.0.1:9"}

    async def scenario():
        config = function("env", "basic.env_dump", memory_mb=512, environment={"TABLE": "chats"})
        async with LambdaRuntime([config], base) as runtime:
            return await runtime.invoke("env", {})

    dump = run(scenario()).payload
    env = dump["environ"]
    root = str(CODE_ROOT.resolve())
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "handlers.basic.env_dump"
    assert env["LAMBDA_TASK_ROOT"] == root
    assert env["AWS_ACCESS_KEY_ID"] == "AKIDLOCAL" and env["AWS_SESSION_TOKEN"] == "local-token"
    assert env["AWS_ENDPOINT_URL_IOT_DATA_PLANE"] == "http://127.0.0.1:9"
    assert env["TABLE"] == "chats"
    assert "HOST_ONLY_SECRET" not in env
    assert root in env["PYTHONPATH"].split(os.pathsep)
    assert dump["sys_path"][0] == root and dump["cwd"] == root


def test_warm_worker_keeps_module_globals_between_invocations() -> None:
    """Lambda reuses a warm execution environment: module state survives, init runs once.

    https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    """

    async def scenario():
        async with LambdaRuntime([function("count", "basic.counter")], LOCAL_ENV) as runtime:
            results = [await runtime.invoke("count", {}) for _ in range(3)]
            return results, runtime.stats("count"), runtime.warm_workers("count")

    results, stats, warm = run(scenario())
    assert [r.payload["count"] for r in results] == [1, 2, 3]
    assert len({r.payload["pid"] for r in results}) == 1
    assert stats.cold_starts == 1 and warm == 1
    assert results[0].init_duration_ms is not None and results[1].init_duration_ms is None
    assert "Init Duration" not in results[2].log_lines[-1]


def test_unserialisable_result_is_a_marshal_error() -> None:
    """A return value that is not JSON becomes Runtime.MarshalError (python-handler.html, return values)."""

    async def scenario():
        async with LambdaRuntime([function("set", "basic.not_serialisable")], LOCAL_ENV) as runtime:
            return await runtime.invoke("set", {})

    result = run(scenario())
    assert result.function_error == "Unhandled" and result.error_type == "Runtime.MarshalError"
    assert result.payload["errorMessage"].startswith("Unable to marshal response:")


def test_import_failure_is_an_init_error_and_the_sandbox_is_not_reused() -> None:
    """A module that fails to import gives Runtime.ImportModuleError; the next invoke tries init again."""

    async def scenario():
        async with LambdaRuntime([function("broken", "broken_import.handler")], LOCAL_ENV) as runtime:
            first = await runtime.invoke("broken", {})
            second = await runtime.invoke("broken", {})
            return first, second, runtime.stats("broken"), runtime.recent_logs("broken")

    first, second, stats, logs = run(scenario())
    assert first.error_type == second.error_type == "Runtime.ImportModuleError"
    assert "Unable to import module 'handlers.broken_import'" in first.payload["errorMessage"]
    assert stats.cold_starts == 2
    assert any("[ERROR] Runtime.ImportModuleError" in line for line in logs)


def test_unknown_function_and_bad_event_are_client_errors() -> None:
    """Invoke of a missing function is ResourceNotFoundException (404); a non-JSON event is
    InvalidRequestContentException. Both are LocalcoreErrors with structured fields (API_Invoke.html)."""

    async def scenario():
        async with LambdaRuntime([function("echo", "basic.echo")], LOCAL_ENV) as runtime:
            with pytest.raises(ResourceNotFoundException) as sync_error:
                await runtime.invoke("nope", {})
            with pytest.raises(ResourceNotFoundException) as async_error:
                await runtime.invoke_async("nope", {})
            with pytest.raises(InvalidRequestContentException):
                await runtime.invoke("echo", {"bad": object()})
            return sync_error.value, async_error.value

    sync_error, async_error = run(scenario())
    for error in (sync_error, async_error):
        assert isinstance(error, LocalcoreError)
        assert error.function_name == "nope" and error.code == "ResourceNotFoundException"
        assert error.function_arn == "arn:aws:lambda:eu-west-1:000000000000:function:nope"


def test_init_that_exits_or_hangs_fails_the_invocation_with_its_request_id() -> None:
    """A runtime that exits during init is Runtime.ExitError; an init past its timeout is Sandbox.Timedout
    (lambda-runtime-environment.html, init phase; troubleshooting-invocation.html)."""

    async def scenario():
        functions = [function("exits", "exit_on_import.handler"), function("slow", "slow_import.handler")]
        async with LambdaRuntime(functions, LOCAL_ENV, init_timeout_seconds=0.3) as runtime:
            exited = await runtime.invoke("exits", {})
            slow = await runtime.invoke("slow", {})
            return exited, slow, runtime.recent_logs("exits")

    exited, slow, logs = run(scenario())
    assert exited.error_type == "Runtime.ExitError"
    assert exited.payload["errorMessage"] == (
        f"RequestId: {exited.request_id} Error: Runtime exited with error: exit status 7"
    )
    assert "exiting during init" in logs
    assert slow.error_type == "Sandbox.Timedout" and slow.request_id in slow.payload["errorMessage"]


def test_function_errors_are_logged_at_warning_with_the_function_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A function error (exception, timeout, failed init) is a WARNING on `localcore.lambda` naming the
    function, its error type and message, as it happens: at the default WARNING level (`iotstream up`,
    pytest's captured log) a crashing function is visible, not only as a client timeout. The shapes follow
    https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html (errorType, errorMessage)."""
    functions = [
        function("fail", "basic.raise_error"),
        function("slow", "basic.sleep_forever", timeout_seconds=0.5),
        function("broken", "broken_import.handler"),
        function("echo", "basic.echo"),
    ]

    async def scenario():
        async with LambdaRuntime(functions, LOCAL_ENV) as runtime:
            for name in ("fail", "slow", "broken", "echo"):
                await runtime.invoke(name, {"why": "bad input"})

    with caplog.at_level(logging.WARNING, logger="localcore.lambda"):
        run(scenario())
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "localcore.lambda" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 3, warnings
    fail, slow, broken = warnings
    assert fail.startswith("function fail failed (RequestId ") and "ValueError: boom: bad input" in fail
    assert slow.startswith("function slow failed") and "Sandbox.Timedout" in slow
    assert broken.startswith("function broken failed") and "Runtime.ImportModuleError" in broken
