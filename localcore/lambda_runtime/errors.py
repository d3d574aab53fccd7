"""Errors of the local Lambda runtime, shaped like the Lambda Invoke API's exceptions."""

from __future__ import annotations

from localcore.errors import LocalcoreError


class LambdaRuntimeError(LocalcoreError):
    """Root of every Lambda runtime error; `code` is the AWS exception name."""

    code = "ServiceException"

    def __init__(self, message: str, *, function_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.function_name = function_name


class ResourceNotFoundException(LambdaRuntimeError):
    """The function does not exist (Invoke returns HTTP 404)."""

    code = "ResourceNotFoundException"

    def __init__(self, function_name: str, function_arn: str | None = None) -> None:
        super().__init__(f"Function not found: {function_arn or function_name}", function_name=function_name)
        self.function_arn = function_arn


class TooManyRequestsException(LambdaRuntimeError):
    """A synchronous invoke found the function at its concurrency limit (HTTP 429). `reason` is AWS's
    `Reason`: `ConcurrentInvocationLimitExceeded` (account) or `ReservedFunctionConcurrentInvocationLimitExceeded`."""

    code = "TooManyRequestsException"
    status = 429

    def __init__(self, function_name: str, *, reason: str, limit: int) -> None:
        super().__init__(f"Rate Exceeded. ({reason}, limit {limit})", function_name=function_name)
        self.reason = reason
        self.limit = limit


class InvalidFunctionConfig(LambdaRuntimeError):
    """A function configuration is invalid (bad handler string, out-of-range setting, ...)."""

    code = "InvalidParameterValueException"

    def __init__(self, message: str, *, function_name: str | None = None, field: str) -> None:
        super().__init__(message, function_name=function_name)
        self.field = field


class RuntimeNotRunning(LambdaRuntimeError):
    """The runtime was used before `start()` or after `close()`."""

    code = "ServiceException"

    def __init__(self, state: str) -> None:
        super().__init__(f"Lambda runtime is {state}")
        self.state = state


class WorkerProtocolError(LambdaRuntimeError):
    """A worker process sent something that is not a valid frame."""

    code = "ServiceException"


class InvalidRequestContentException(LambdaRuntimeError):
    """The event cannot be sent to a function (it is not JSON-serialisable)."""

    code = "InvalidRequestContentException"
