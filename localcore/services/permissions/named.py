"""Which IAM permissions an SQS, SNS, Kinesis, Firehose, CloudWatch or IAM request needs.

Each is authorized as `<service>:<Operation>` on the one resource the request names, as the services'
authorization references give them (https://docs.aws.amazon.com/service-authorization/latest/reference/
`list_amazonsqs.html`, `list_amazonsns.html`, `list_amazonkinesis.html`, `list_amazonkinesisfirehose.html`,
`list_amazoncloudwatch.html`, `list_awsidentityandaccessmanagementiam.html`); batch calls that AWS
authorizes as their single form (SQS `SendMessageBatch` as `sqs:SendMessage`, SNS `PublishBatch` as
`sns:Publish`) are in `BATCH_ACTIONS`. CloudWatch metric calls have no resource (`*`, as in AWS). A request
that names no resource is checked on `*`, which only a principal allowed everything passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from localcore.services.permissions.place import Permission, Place
from localcore.services.requests import ServiceRequest

BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "PublishBatch": "Publish",
}


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return value if isinstance(value, str) and value else None


def _sqs_queue(params: Mapping[str, Any], place: Place) -> str | None:
    url = _text(params, "QueueUrl")
    if url is not None:
        parts = [part for part in urlparse(url).path.split("/") if part]
        if not parts:
            return None
        account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else place.account
        return f"arn:aws:sqs:{place.region}:{account}:{parts[-1]}"
    name = _text(params, "QueueName")
    return place.arn("sqs", name) if name else None


def _sns_topic(params: Mapping[str, Any], place: Place) -> str | None:
    for member in ("TopicArn", "TargetArn", "ResourceArn"):
        arn = _text(params, member)
        if arn is not None:
            return arn
    subscription = _text(params, "SubscriptionArn")
    if subscription is not None:
        return subscription.rpartition(":")[0]
    name = _text(params, "Name")
    return place.arn("sns", name) if name else None


def _kinesis_stream(params: Mapping[str, Any], place: Place) -> str | None:
    arn = _text(params, "StreamARN") or _text(params, "ConsumerARN")
    if arn is not None:
        return arn
    name = _text(params, "StreamName")
    return place.arn("kinesis", f"stream/{name}") if name else None


def _firehose_stream(params: Mapping[str, Any], place: Place) -> str | None:
    name = _text(params, "DeliveryStreamName")
    return place.arn("firehose", f"deliverystream/{name}") if name else None


def _iam_resource(params: Mapping[str, Any], place: Place) -> str | None:
    role = _text(params, "RoleName")
    if role is not None:
        return place.global_arn("iam", f"role/{role}")
    user = _text(params, "UserName")
    if user is not None:
        return place.global_arn("iam", f"user/{user}")
    return _text(params, "PolicyArn")


def _no_resource(params: Mapping[str, Any], place: Place) -> str | None:
    return None


def _rule(prefix: str, resource: Callable[[Mapping[str, Any], Place], str | None]) -> NamedRule:
    def needs(request: ServiceRequest, place: Place) -> list[Permission]:
        action = f"{prefix}:{BATCH_ACTIONS.get(request.operation, request.operation)}"
        return [(action, resource(request.params, place) or "*")]

    return needs


NamedRule = Callable[[ServiceRequest, Place], list[Permission]]
sqs_needs = _rule("sqs", _sqs_queue)
sns_needs = _rule("sns", _sns_topic)
kinesis_needs = _rule("kinesis", _kinesis_stream)
firehose_needs = _rule("firehose", _firehose_stream)
cloudwatch_needs = _rule("cloudwatch", _no_resource)
iam_needs = _rule("iam", _iam_resource)
