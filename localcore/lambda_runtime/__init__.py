"""localcore's Lambda runtime: the project's handlers in worker subprocesses, with AWS Lambda semantics."""

from __future__ import annotations

from localcore.lambda_runtime.concurrency import ConcurrencyConfig
from localcore.lambda_runtime.config import Destination, DestinationCallable, FunctionConfig, HandlerName
from localcore.lambda_runtime.errors import (
    InvalidFunctionConfig,
    InvalidRequestContentException,
    LambdaRuntimeError,
    ResourceNotFoundException,
    RuntimeNotRunning,
    TooManyRequestsException,
    WorkerProtocolError,
)
from localcore.lambda_runtime.results import AsyncOutcome, FunctionStats, InvocationResult
from localcore.lambda_runtime.runtime import LambdaRuntime

__all__ = [
    "AsyncOutcome",
    "ConcurrencyConfig",
    "Destination",
    "DestinationCallable",
    "FunctionConfig",
    "FunctionStats",
    "HandlerName",
    "InvalidFunctionConfig",
    "InvalidRequestContentException",
    "InvocationResult",
    "LambdaRuntime",
    "LambdaRuntimeError",
    "ResourceNotFoundException",
    "RuntimeNotRunning",
    "TooManyRequestsException",
    "WorkerProtocolError",
]
