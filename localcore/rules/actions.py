"""Rule actions that are not AWS API calls — `lambda` (asynchronous invoke), `republish` and
`cloudwatchLogs` — what every action shares, and the errorAction payload. (The actions that write to AWS
services are planned in `service_plans.py` and `dynamodb_plans.py`, the `http` action in `http_action.py`.)

Each action turns the rule's SELECT output into a side effect or raises `ActionFailed`, which the engine
collects into AWS's error-action message (`failures[]` with `failedAction`, `failedResource`, `errorMessage`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from localcore.broker.message import Message, Publisher, PublishProperties
from localcore.errors import LocalcoreError

ACTION_NAMES = {
    "lambda": "LambdaAction",
    "republish": "RepublishAction",
    "cloudwatchLogs": "CloudwatchLogsAction",
    "cloudwatchMetric": "CloudwatchMetricAction",
    "dynamoDB": "DynamoDBAction",
    "dynamoDBv2": "DynamoDBv2Action",
    "sqs": "SqsAction",
    "sns": "SnsAction",
    "s3": "S3Action",
    "kinesis": "KinesisAction",
    "firehose": "FirehoseAction",
    "http": "HttpAction",
}
"""Each action's API shape name: the errorAction's `failedAction` ("S3Action", rule-error-handling.html)."""


@dataclass(frozen=True)
class ActionScope:
    """Which rule runs the action, on a message of which topic (for roles' trust and error messages), published
    by whom (`source`: the publisher's principal or client id, "" for HTTP and rule publishes)."""

    rule: str
    topic: str
    source: str = ""


class ActionFailed(LocalcoreError):
    """One action could not be carried out; becomes an entry of the errorAction's `failures`."""

    def __init__(self, kind: str, resource: str, message: str) -> None:
        super().__init__(f"{ACTION_NAMES.get(kind, kind)} on {resource}: {message}")
        self.kind = kind
        self.resource = resource
        self.message = message

    def as_failure(self) -> dict[str, str]:
        return {
            "failedAction": ACTION_NAMES.get(self.kind, self.kind),
            "failedResource": self.resource,
            "errorMessage": self.message,
        }


class AsyncInvoker(Protocol):
    """Lambda's InvocationType=Event: queue the event, return the request id (Lambda retries on its own)."""

    async def invoke_async(self, function_name: str, event: Any, source: str = "") -> str: ...


class MessagePublisher(Protocol):
    """The broker's internal publish."""

    async def publish(self, message: Message) -> None: ...


class LogSink(Protocol):
    """Where `cloudwatchLogs` actions write: one log event (the message as text) per rule output."""

    def put(self, log_group: str, message: str) -> None: ...


Render = Callable[[str], str]  # evaluates ${...} substitution templates against the original message


def serialise_output(output: Any) -> bytes:
    """The SELECT output as the bytes an action sends: raw bytes pass through, everything else is JSON."""
    if isinstance(output, bytes | bytearray):
        return bytes(output)
    return json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode()


def function_name_of(function_arn: str) -> str:
    """`arn:aws:lambda:r:a:function:NAME[:qualifier]` (or a bare name) -> NAME."""
    parts = function_arn.split(":")
    if len(parts) >= 7 and parts[5] == "function":
        return parts[6]
    return function_arn


async def run_lambda(
    params: Mapping[str, Any], output: Any, render: Render, invoker: AsyncInvoker, source: str = ""
) -> str:
    """Invoke the function asynchronously with the SELECT output as the event (binary is refused, as in AWS)."""
    arn = render(str(params["functionArn"]))
    if isinstance(output, bytes | bytearray):
        raise ActionFailed(
            "lambda", arn, "The Lambda action does not accept binary payloads; use encode(*, 'base64')"
        )
    try:
        return await invoker.invoke_async(function_name_of(arn), output, source)
    except LocalcoreError as error:
        raise ActionFailed("lambda", arn, str(error)) from error


def _headers(headers: Mapping[str, Any], render: Render) -> PublishProperties:
    """The republish action's MQTT 5 headers, each a substitution template."""
    indicator = headers.get("payloadFormatIndicator")
    expiry = headers.get("messageExpiry")
    correlation = headers.get("correlationData")
    return PublishProperties(
        payload_format_indicator=None if indicator is None else int(render(indicator) == "UTF8_DATA"),
        content_type=render(headers["contentType"]) if "contentType" in headers else None,
        response_topic=render(headers["responseTopic"]) if "responseTopic" in headers else None,
        correlation_data=base64.b64decode(render(correlation)) if correlation else None,
        message_expiry_interval=int(render(str(expiry))) if expiry is not None else None,
        user_properties=tuple(
            (render(p["key"]), render(p["value"])) for p in headers.get("userProperties", [])
        ),
    )


@dataclass(frozen=True)
class RepublishTarget:
    """Where a republish action sends (its topic rendered; `$$` stands for a leading `$`)."""

    topic: str
    qos: int


def republish_target(params: Mapping[str, Any], render: Render) -> RepublishTarget:
    topic = render(str(params["topic"]))
    if topic.startswith("$$"):
        topic = topic[1:]
    return RepublishTarget(topic, int(params.get("qos", 0)))


async def run_republish(
    params: Mapping[str, Any], output: Any, render: Render, publisher: MessagePublisher
) -> RepublishTarget:
    """Publish the SELECT output to the rendered topic through the broker (rules see it again)."""
    try:
        target = republish_target(params, render)
        properties = _headers(params.get("headers") or {}, render)
    except (ValueError, KeyError) as error:
        raise ActionFailed(
            "republish", str(params.get("topic")), f"bad action parameters: {error}"
        ) from error
    if not target.topic or "+" in target.topic or "#" in target.topic:
        raise ActionFailed("republish", target.topic, "the republish topic is empty or has wildcards")
    message = Message(
        topic=target.topic,
        payload=serialise_output(output),
        qos=target.qos,
        properties=properties,
        publisher=Publisher(client_id=None, principal="iot.amazonaws.com"),
    )
    try:
        await publisher.publish(message)
    except LocalcoreError as error:
        raise ActionFailed("republish", target.topic, str(error)) from error
    return target


def run_cloudwatch_logs(params: Mapping[str, Any], output: Any, render: Render, sink: LogSink) -> str:
    """Write the SELECT output as one log event of the rendered log group (`batchMode` false, AWS's default:
    https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html)."""
    group = render(str(params["logGroupName"]))
    if not group:
        raise ActionFailed("cloudwatchLogs", group, "the log group name is empty")
    sink.put(group, serialise_output(output).decode("utf-8", errors="replace"))
    return group


def error_action_payload(
    rule_name: str, message: Message, trace_id: str, failures: list[ActionFailed]
) -> dict[str, Any]:
    """AWS's error-action message: one per rule and message, whatever number of actions failed."""
    return {
        "ruleName": rule_name,
        "topic": message.topic,
        "cloudwatchTraceId": trace_id,
        "clientId": message.publisher.client_id or "n/a",
        "base64OriginalPayload": base64.b64encode(message.payload).decode(),
        "failures": [failure.as_failure() for failure in failures],
    }
