"""Resource ARNs for the IoT data-plane actions (`iot-action-resources.html`)."""

from __future__ import annotations

from iot_policies.errors import UnknownActionError

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

# action (lower-case) -> resource type in the ARN
RESOURCE_TYPES: dict[str, str] = {
    CONNECT.lower(): "client",
    DELETE_CONNECTION.lower(): "client",
    PUBLISH.lower(): "topic",
    RECEIVE.lower(): "topic",
    RETAIN_PUBLISH.lower(): "topic",
    GET_RETAINED_MESSAGE.lower(): "topic",
    SUBSCRIBE.lower(): "topicfilter",
}


def arn_prefix(region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:iot:{region}:{account}:"


def resource_arn(action: str, name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    """`arn:aws:iot:{region}:{account}:{client|topic|topicfilter}/{name}`; `*` for ListRetainedMessages."""
    lowered = action.lower()
    if lowered == LIST_RETAINED_MESSAGES.lower():
        return "*"
    resource_type = RESOURCE_TYPES.get(lowered)
    if resource_type is None:
        raise UnknownActionError(action)
    return f"{arn_prefix(region, account)}{resource_type}/{name}"
