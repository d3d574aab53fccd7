"""Resource ARNs of the IoT policy actions (`iot-action-resources.html`)."""

from __future__ import annotations

import re

from iot_policies.errors import PolicyError, UnknownActionError

CONNECT = "iot:Connect"
PUBLISH = "iot:Publish"
SUBSCRIBE = "iot:Subscribe"
RECEIVE = "iot:Receive"
RETAIN_PUBLISH = "iot:RetainPublish"
GET_RETAINED_MESSAGE = "iot:GetRetainedMessage"
LIST_RETAINED_MESSAGES = "iot:ListRetainedMessages"
DELETE_CONNECTION = "iot:DeleteConnection"

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"

ANY_RESOURCE = "*"
ACTION_RESOURCES: dict[str, str] = {
    CONNECT: "client",
    DELETE_CONNECTION: "client",
    PUBLISH: "topic",
    RECEIVE: "topic",
    RETAIN_PUBLISH: "topic",
    GET_RETAINED_MESSAGE: "topic",
    SUBSCRIBE: "topicfilter",
    LIST_RETAINED_MESSAGES: ANY_RESOURCE,
    "iot:ListNamedShadowsForThing": ANY_RESOURCE,
    "iot:GetThingShadow": "thing",
    "iot:UpdateThingShadow": "thing",  # thing/<name>, or thing/<name>/<shadow> for a named shadow
    "iot:DeleteThingShadow": "thing",
    "iot:DescribeJobExecution": "thing",
    "iot:GetPendingJobExecutions": "thing",
    "iot:StartNextPendingJobExecution": "thing",
    "iot:UpdateJobExecution": "thing",
    "iot:AssumeRoleWithCertificate": "rolealias",
}
"""Each action (AWS's spelling) -> the resource type of its ARN, or `*` when it takes no resource."""

RESOURCE_TYPES: dict[str, str] = {action.lower(): kind for action, kind in ACTION_RESOURCES.items()}

_ARN_RE = re.compile(r"arn:(?P<partition>[^:]+):(?P<service>[^:]+):[^:]*:[^:]*:(?P<resource>.+)", re.DOTALL)


class MalformedArnError(PolicyError):
    """A resource given as an ARN that is not one, or that names another resource type than the action's."""

    def __init__(self, arn: str, message: str) -> None:
        self.arn = arn
        super().__init__(message)


def arn_prefix(region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:iot:{region}:{account}:"


def resource_arn(action: str, name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    """`arn:aws:iot:{region}:{account}:{client|topic|topicfilter|thing|rolealias}/{name}`, or `*`."""
    resource_type = RESOURCE_TYPES.get(action.lower())
    if resource_type is None:
        raise UnknownActionError(action)
    if resource_type == ANY_RESOURCE:
        return ANY_RESOURCE
    return f"{arn_prefix(region, account)}{resource_type}/{name}"


def check_arn(action: str, arn: str) -> None:
    """Raise MalformedArnError unless `arn` is `arn:partition:service:region:account:resource` and, for an
    IoT action with a known resource type, names a resource of that type."""
    match = _ARN_RE.fullmatch(arn)
    if match is None:
        raise MalformedArnError(
            arn, f"{arn!r} is not an ARN: expected arn:partition:service:region:account:resource"
        )
    resource_type = RESOURCE_TYPES.get(action.lower())
    if match["service"] != "iot" or resource_type in (None, ANY_RESOURCE):
        return
    if not match["resource"].startswith(f"{resource_type}/"):
        raise MalformedArnError(
            arn, f"{action} acts on {resource_type}/<name> resources, not {match['resource']!r}"
        )
