"""What an AWS-service rule action asks for — one API call made as the action's role — and how it fails.

Actions only describe the call (`ServiceCall`: service, operation, parameters, role); a `ServiceCaller`
makes it. localcore's caller assumes the role and calls its own services through the gateway, so IAM decides
exactly as it does for every other request (`localcore/services/role_calls.py`); `iotstream rules test`
records the calls instead. The rules package so never imports the services it writes to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from localcore.errors import LocalcoreError


@dataclass(frozen=True)
class ServiceCall:
    """One API call: boto3's service and operation names, its parameters, and the role it is made as."""

    service: str  # "sqs", "dynamodb", "cloudwatch", ...
    operation: str  # "SendMessage", "PutItem", ...
    params: Mapping[str, Any]
    role_arn: str


@dataclass(frozen=True)
class HttpDelivery:
    """The `http` action's POST: rendered URL and headers, the payload, and its SigV4 signing if any."""

    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    sigv4: Mapping[str, str] | None = None  # {"signingRegion", "serviceName", "roleArn"}


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes = b""
    closed: bool = False  # the server closed the connection (AWS does not retry then)


@dataclass(frozen=True)
class Plan:
    """The calls one action makes; on failure, `failedResource` and the first words of `errorMessage`."""

    kind: str
    resource: str
    failure: str  # "Failed to put S3 object"
    details: str  # "Bucket: b, Key: \"k\"": what the errorMessage ends with
    calls: tuple[ServiceCall, ...]
    check: Callable[[Mapping[str, Any]], str | None] | None = field(default=None, compare=False)

    def error_message(self, cause: str, topic: str) -> str:
        """AWS's errorMessage pattern (rule-error-handling.html: "Failed to put S3 object. The error received
        was ... Message arrived on: error/action, Action: s3, Bucket: ..., Key: ...")."""
        return f"{self.failure}. The error received was {cause}. Message arrived on: {topic}, Action: {self.kind}, {self.details}"


Planner = Callable[[Mapping[str, Any], Any, Callable[[str], str]], Plan]
"""(action parameters, SELECT output, template renderer) -> the calls."""


class ServiceCallError(LocalcoreError):
    """The call failed: the service's error (`code`, `status`) or an earlier step (assuming the role)."""

    def __init__(
        self, service: str, code: str, message: str, status: int = 400, request_id: str = ""
    ) -> None:
        super().__init__(message)
        self.service = service  # "Amazon SQS"
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id

    def describe(self) -> str:
        """The error as AWS's rules engine words it in errorAction messages
        (https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html: "The specified bucket
        does not exist (Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket; Request ID: ...)")."""
        return (
            f"{self.message} (Service: {self.service}; Status Code: {self.status}; Error Code: {self.code}; "
            f"Request ID: {self.request_id or 'n/a'})"
        )


class ServiceCaller(Protocol):
    """Makes rule actions' AWS calls as their role (`rule` is the rule's name, for the role's trust policy)."""

    async def call(self, call: ServiceCall, rule: str) -> Mapping[str, Any]: ...

    async def post(self, delivery: HttpDelivery, rule: str) -> HttpAnswer: ...


class NoServices:
    """For engines built without AWS services: every call fails, naming what is missing."""

    async def call(self, call: ServiceCall, rule: str) -> Mapping[str, Any]:
        raise ServiceCallError(call.service, "ServiceUnavailable", "localcore runs no AWS services here", 503)

    async def post(self, delivery: HttpDelivery, rule: str) -> HttpAnswer:
        raise ServiceCallError("HTTP", "ServiceUnavailable", "localcore sends no HTTP requests here", 503)
