"""The AWS data services localcore serves on its gateway, with what differs between them.

Each is moto's implementation of that service, behind localcore's SigV4 + IAM front (`front.py`). A request
is routed to its service by the service name in its SigV4 credential scope (`monitoring` for CloudWatch), so
the services share the gateway's port with the IoT and Cognito APIs. boto3 finds each through its
service-specific endpoint variable, `AWS_ENDPOINT_URL_<service id>`
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localcore.http.operations import service_model
from localcore.services.permissions.dynamodb import dynamodb_needs
from localcore.services.permissions.named import (
    cloudwatch_needs,
    firehose_needs,
    iam_needs,
    kinesis_needs,
    sns_needs,
    sqs_needs,
)
from localcore.services.permissions.place import Permission, Place
from localcore.services.permissions.s3 import s3_needs
from localcore.services.requests import ServiceRequest

Needs = Callable[[ServiceRequest, Place], list[Permission]]


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its boto3 name (also moto's), SigV4 signing name, IAM rule and error conventions.

    `denied` is the code and HTTP status the service answers an IAM refusal with; `auth_status` overrides the
    status of every refusal (DynamoDB answers them all with 400); `query_compatible` services (SQS and
    CloudWatch over JSON) also send the code in `x-amzn-query-error`, where botocore reads it."""

    name: str
    signing_name: str
    needs: Needs
    denied: tuple[str, int]
    auth_status: int | None = None
    query_compatible: bool = False

    @property
    def target_prefix(self) -> str | None:
        """A JSON service's `X-Amz-Target` prefix (`DynamoDB_20120810`), None for query and REST services."""
        prefix = service_model(self.name).metadata.get("targetPrefix")
        return str(prefix) if prefix else None

    @property
    def environment_variable(self) -> str:
        """`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_CLOUDWATCH`: botocore's service id, upper snake case."""
        service_id = service_model(self.name).service_id
        return "AWS_ENDPOINT_URL_" + str(service_id).upper().replace(" ", "_").replace("-", "_")


def service_label(name: str) -> str:
    """How errors name the service: "Amazon S3", "Amazon SQS" (as in AWS's errorAction example)."""
    return f"Amazon {service_model(name).service_id}"


SERVICES = (
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html: all 400
    ServiceSpec("dynamodb", "dynamodb", dynamodb_needs, ("AccessDeniedException", 400), auth_status=400),
    ServiceSpec("sqs", "sqs", sqs_needs, ("AccessDenied", 403), query_compatible=True),
    ServiceSpec("sns", "sns", sns_needs, ("AuthorizationError", 403)),
    ServiceSpec("s3", "s3", s3_needs, ("AccessDenied", 403)),
    ServiceSpec("kinesis", "kinesis", kinesis_needs, ("AccessDeniedException", 400)),
    ServiceSpec("firehose", "firehose", firehose_needs, ("AccessDeniedException", 400)),
    ServiceSpec("cloudwatch", "monitoring", cloudwatch_needs, ("AccessDenied", 403), query_compatible=True),
    ServiceSpec("iam", "iam", iam_needs, ("AccessDenied", 403)),
)
