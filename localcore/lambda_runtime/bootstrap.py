"""The worker process: Lambda's Python runtime bootstrap, locally. Standard library only.

Run as `python -P bootstrap.py` with `_HANDLER`, `LAMBDA_TASK_ROOT` and the function's environment set.
It imports the handler once (the cold start), then serves invocations one at a time over fds 0/1
(frames as in `protocol.py`), so module globals persist between invocations like in a warm sandbox.
Handler output (print, logging, fd 1 and 2) all goes to stderr, which the parent reads as the log.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import struct
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")
LOG_MARKER = "\x1elocalcore-lambda-mark "
_THIS_FILE = Path(__file__).resolve()


class CognitoIdentity:
    """`context.identity`: AWS's runtime always sets this object; both fields are None unless a mobile SDK
    invoked the function with Cognito credentials (never for function URLs, IoT rules or async events)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The context object of Lambda's Python runtime, attribute for attribute as AWS's runtime interface client
    builds it (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html; `awslambdaric/lambda_context.py`
    in aws/aws-lambda-python-runtime-interface-client): `identity` is an object, `client_context` and
    `tenant_id` are None."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = CognitoIdentity()
        self.client_context: object | None = None
        self.tenant_id: str | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name}])"


class _RequestIdFilter(logging.Filter):
    """Adds `aws_request_id` to every record, like the runtime's LambdaLoggerFilter."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def error_payload(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """`{"errorMessage", "errorType", "requestId", "stackTrace"}` without the bootstrap's own frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() != _THIS_FILE]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames),
    }


def _write_frame(out: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message, separators=(",", ":")).encode()
    out.write(HEADER.pack(len(body)) + body)
    out.flush()


def _read_frame(source: BinaryIO) -> dict[str, Any] | None:
    header = source.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    body = source.read(length)
    message: dict[str, Any] = json.loads(body)
    return message


def _mark(tag: str) -> None:
    """Flush every output stream, then write the end-of-phase marker line to stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(2, f"{LOG_MARKER}{tag}\n".encode())


def _limit_memory() -> None:
    """Bound the sandbox's memory by the function's memory size: RLIMIT_DATA (heap and private writable
    mappings) = AWS_LAMBDA_FUNCTION_MEMORY_SIZE MiB, so an allocation past it fails (MemoryError)."""
    limit = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0")) * 1024 * 1024
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _max_memory_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _load_handler(spec: str) -> Callable[[Any, LambdaContext], Any]:
    """Import the handler like the runtime does, with its error types for each failure."""
    module_name, _, function_name = spec.rpartition(".")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise _InitError(
            f"Syntax error in module '{module_name}': {exc}", "Runtime.UserCodeSyntaxError"
        ) from exc
    except ImportError as exc:
        raise _InitError(
            f"Unable to import module '{module_name}': {exc}", "Runtime.ImportModuleError"
        ) from exc
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise _InitError(
            f"Handler '{function_name}' missing on module '{module_name}'", "Runtime.HandlerNotFound"
        )
    return handler  # type: ignore[no-any-return]


class _InitError(Exception):
    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _configure_logging(request_filter: _RequestIdFilter) -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)


def _error_reply(request_id: str, error: dict[str, Any]) -> dict[str, Any]:
    error["requestId"] = request_id
    sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n")
    if error["stackTrace"]:
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(error["stackTrace"]))
    return {"type": "error", "request_id": request_id, "error": error}


def _invoke(handler: Callable[[Any, LambdaContext], Any], message: dict[str, Any]) -> dict[str, Any]:
    request_id = str(message["request_id"])
    context = LambdaContext(request_id, str(message["invoked_function_arn"]), int(message["deadline_ms"]))
    try:
        result = handler(message["event"], context)
    except Exception as exc:  # noqa: BLE001 - the runtime boundary: any handler exception is a function error
        return _error_reply(request_id, error_payload(exc))
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        message_text = f"Unable to marshal response: {exc}"
        error = {"errorMessage": message_text, "errorType": "Runtime.MarshalError", "stackTrace": []}
        return _error_reply(request_id, error)
    return {"type": "result", "request_id": request_id, "payload": result}


def main() -> None:
    protocol_in = os.fdopen(os.dup(0), "rb")
    protocol_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    request_filter = _RequestIdFilter()
    _configure_logging(request_filter)
    _limit_memory()

    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except Exception as exc:  # noqa: BLE001 - init boundary: any import-time failure is an init error
        error = error_payload(exc, exc.error_type if isinstance(exc, _InitError) else None)
        sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n")
        _mark("init")
        _write_frame(protocol_out, {"type": "ready", "init_error": error, "max_memory_mb": _max_memory_mb()})
        return
    _mark("init")
    _write_frame(protocol_out, {"type": "ready", "init_error": None, "max_memory_mb": _max_memory_mb()})

    while (message := _read_frame(protocol_in)) is not None:
        request_filter.request_id = str(message["request_id"])
        reply = _invoke(handler, message)
        reply["max_memory_mb"] = _max_memory_mb()
        _mark(reply["request_id"])
        _write_frame(protocol_out, reply)


if __name__ == "__main__":
    main()
