"""Function configuration: handler strings and Lambda's ranges for async settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from localcore.lambda_runtime import FunctionConfig, HandlerName, InvalidFunctionConfig, LambdaRuntime


@pytest.mark.parametrize(
    ("handler", "module", "function"),
    [
        ("prompt.handler.handler", "prompt.handler", "handler"),
        ("prompt/handler.handler", "prompt.handler", "handler"),
        ("index.lambda_handler", "index", "lambda_handler"),
    ],
)
def test_handler_string_splits_into_module_and_function(handler: str, module: str, function: str) -> None:
    """The Python runtime's handler setting is `<module path>.<function>` (python-handler.html, naming)."""
    assert HandlerName.parse(handler) == HandlerName(module, function)


@pytest.mark.parametrize("handler", ["handler", "", "prompt.", ".handler", "pro mpt.handler", "a..b"])
def test_malformed_handler_strings_are_rejected(handler: str, tmp_path: Path) -> None:
    """A handler without a module and a function is invalid (Runtime.MalformedHandlerName in AWS)."""
    with pytest.raises(InvalidFunctionConfig) as error:
        FunctionConfig("f", handler, tmp_path)
    assert error.value.field == "handler"


def test_defaults_are_lambdas_defaults(tmp_path: Path) -> None:
    """3 s timeout, 128 MB, 2 async retries after ~1 and ~2 minutes, 6 h max event age
    (configuration-timeout.html, invocation-async-error-handling.html)."""
    config = FunctionConfig("f", "mod.fn", tmp_path)
    assert config.timeout_seconds == 3.0 and config.memory_mb == 128
    assert config.max_retry_attempts == 2 and config.maximum_event_age_seconds == 21600
    assert config.retry_delay(1) == 60.0 and config.retry_delay(2) == 120.0 and config.retry_delay(3) == 120.0
    assert config.reserved_concurrency is None


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_retry_attempts": 3}, "max_retry_attempts"),
        ({"max_retry_attempts": -1}, "max_retry_attempts"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 901}, "timeout_seconds"),
        ({"memory_mb": 64}, "memory_mb"),
        ({"reserved_concurrency": -1}, "reserved_concurrency"),
        ({"maximum_event_age_seconds": 21601}, "maximum_event_age_seconds"),
        ({"retry_delays_seconds": ()}, "retry_delays_seconds"),
        ({"environment": {"A": 1}}, "environment"),
    ],
)
def test_out_of_range_settings_are_rejected_with_the_field(
    settings: dict, field: str, tmp_path: Path
) -> None:
    """Retries are 0-2, timeout at most 900 s, memory 128-10240 MB, event age at most 6 h
    (API_PutFunctionEventInvokeConfig.html, API_CreateFunction.html)."""
    with pytest.raises(InvalidFunctionConfig) as error:
        FunctionConfig("f", "mod.fn", tmp_path, **settings)
    assert error.value.field == field and error.value.function_name == "f"


def test_bad_name_and_missing_code_root_are_rejected(tmp_path: Path) -> None:
    """Function names are 1-64 letters, digits, hyphens or underscores (API_CreateFunction.html)."""
    with pytest.raises(InvalidFunctionConfig):
        FunctionConfig("bad name", "mod.fn", tmp_path)
    with pytest.raises(InvalidFunctionConfig) as error:
        FunctionConfig("f", "mod.fn", tmp_path / "missing")
    assert error.value.field == "code_root"


def test_duplicate_functions_and_unknown_destinations_are_rejected(tmp_path: Path) -> None:
    """A destination function must exist in the same runtime; names are unique."""
    with pytest.raises(InvalidFunctionConfig):
        LambdaRuntime([FunctionConfig("f", "m.f", tmp_path), FunctionConfig("f", "m.g", tmp_path)], {})
    runtime = LambdaRuntime([FunctionConfig("f", "m.f", tmp_path, on_failure="missing")], {})
    with pytest.raises(InvalidFunctionConfig) as error:
        asyncio.run(runtime.start())
    assert error.value.field == "on_failure"
