"""Function configuration: what CDK's `lambda.Function` plus `EventInvokeConfig` describe."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcore.lambda_runtime.errors import InvalidFunctionConfig

DestinationCallable = Callable[[dict[str, Any]], Awaitable[None] | None]
"""An in-process destination: called with the AWS-shaped invocation record."""

Destination = DestinationCallable | str
"""A destination is a callable, or the name of another function (invoked asynchronously)."""

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*([./][A-Za-z_][A-Za-z0-9_]*)*\.[A-Za-z_][A-Za-z0-9_]*")

DEFAULT_RETRY_DELAYS = (60.0, 120.0)
"""Lambda waits about one minute before the first retry and two minutes before the second."""

MAX_EVENT_AGE_SECONDS = 21600.0


@dataclass(frozen=True)
class HandlerName:
    """A handler string split the way the Python runtime splits it: `pkg/mod.func` or `pkg.mod.func`."""

    module: str
    function: str

    @classmethod
    def parse(cls, handler: str) -> HandlerName:
        if not _HANDLER.fullmatch(handler):
            raise InvalidFunctionConfig(f"Bad handler '{handler}': expected module.function", field="handler")
        module, function = handler.rsplit(".", 1)
        return cls(module=module.replace("/", "."), function=function)


@dataclass(frozen=True)
class FunctionConfig:
    """One Lambda function. Defaults are Lambda's own (3 s timeout, 128 MB, 2 async retries, 6 h age).

    Timeouts, retry delays and event age accept values below AWS's minimums so tests stay fast.
    """

    name: str
    handler: str
    code_root: Path
    timeout_seconds: float = 3.0
    memory_mb: int = 128
    environment: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    max_retry_attempts: int = 2
    retry_delays_seconds: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    maximum_event_age_seconds: float = MAX_EVENT_AGE_SECONDS
    on_failure: Destination | None = None
    on_success: Destination | None = None

    def __post_init__(self) -> None:
        def bad(field_name: str, message: str) -> InvalidFunctionConfig:
            return InvalidFunctionConfig(message, function_name=self.name, field=field_name)

        if not _NAME.fullmatch(self.name):
            raise bad("name", f"Bad function name '{self.name}': 1-64 letters, digits, '-' or '_'")
        HandlerName.parse(self.handler)
        if not Path(self.code_root).is_dir():
            raise bad("code_root", f"Code root {self.code_root} is not a directory")
        if not 0 < self.timeout_seconds <= 900:
            raise bad("timeout_seconds", "Timeout must be greater than 0 and at most 900 seconds")
        if not 128 <= self.memory_mb <= 10240:
            raise bad("memory_mb", "Memory must be between 128 and 10240 MB")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            raise bad("reserved_concurrency", "Reserved concurrency must be 0 or more")
        if not 0 <= self.max_retry_attempts <= 2:
            raise bad("max_retry_attempts", "Async retry attempts must be 0, 1 or 2")
        if not self.retry_delays_seconds or any(d < 0 for d in self.retry_delays_seconds):
            raise bad("retry_delays_seconds", "Retry delays must be a non-empty list of non-negative seconds")
        if not 0 < self.maximum_event_age_seconds <= MAX_EVENT_AGE_SECONDS:
            raise bad("maximum_event_age_seconds", "Maximum event age must be above 0 and at most 6 hours")
        for key, value in self.environment.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise bad("environment", f"Environment variable {key!r} must map a string to a string")

    def retry_delay(self, retry_number: int) -> float:
        """Delay before retry `retry_number` (1-based); the last delay repeats."""
        delays = self.retry_delays_seconds
        return delays[min(retry_number, len(delays)) - 1]
