"""The `sqs` and `sns` rule actions, read back with boto3.

AWS pages: https://docs.aws.amazon.com/iot/latest/developerguide/sqs-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/sns-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html (errorAction message).
"""

from __future__ import annotations

import base64
import json

from tests.support.rule_actions import Rules, original_payload, unique


def test_sqs_sends_the_select_output_to_the_templated_queue(rules: Rules) -> None:
    """sqs-rule-action.html: SendMessage of the SELECT output to `queueUrl`, whose substitution templates are
    rendered against the message; the role needs `sqs:SendMessage`."""
    url, arn = rules.queue()
    role = rules.role({"Action": "sqs:SendMessage", "Resource": arn})
    base, name = url.rsplit("/", 1)
    topic = unique("telemetry")
    templated = f"{base}/${{topic(2)}}"
    rules.rule(
        f"SELECT temperature, topic(2) AS queue FROM '{topic}/+'",
        [{"sqs": {"queueUrl": templated, "roleArn": role}}],
    )
    rules.publish(f"{topic}/{name}", {"temperature": 21.5, "humidity": 40})
    assert [json.loads(body) for body in rules.messages(url)] == [{"temperature": 21.5, "queue": name}]


def test_sqs_use_base64_encodes_the_payload_first(rules: Rules) -> None:
    """sqs-rule-action.html: `useBase64` true base64-encodes the message data before writing it, so binary
    payloads (SELECT * of a non-JSON message passes the bytes through) reach the queue intact."""
    url, arn = rules.queue()
    role = rules.role({"Action": "sqs:SendMessage", "Resource": arn})
    topic = unique("binary")
    rules.rule(f"SELECT * FROM '{topic}'", [{"sqs": {"queueUrl": url, "roleArn": role, "useBase64": True}}])
    rules.publish(topic, b"\x00\xffraw")
    assert [base64.b64decode(body) for body in rules.messages(url)] == [b"\x00\xffraw"]


def test_sqs_refuses_binary_without_base64_and_the_error_action_says_why(rules: Rules) -> None:
    """SQS message bodies are text: a binary payload without `useBase64` fails the action, and the errorAction
    gets one message naming SqsAction and the queue (rule-error-handling.html)."""
    url, arn = rules.queue()
    role = rules.role({"Action": "sqs:SendMessage", "Resource": arn})
    sink, errors = rules.error_sink()
    topic = unique("binary")
    rule = rules.rule(f"SELECT * FROM '{topic}'", [{"sqs": {"queueUrl": url, "roleArn": role}}], sink)
    rules.publish(topic, b"\xff\xfe")
    assert rules.messages(url) == []
    (error,) = rules.errors(errors)
    assert (error["ruleName"], error["topic"], original_payload(error)) == (rule, topic, b"\xff\xfe")
    (failure,) = error["failures"]
    assert failure["failedAction"] == "SqsAction" and failure["failedResource"] == url
    assert "binary" in failure["errorMessage"]


def test_sns_publishes_raw_or_json_messages(rules: Rules) -> None:
    """sns-rule-action.html: Publish to `targetArn`; `messageFormat` RAW (default) sends the output as the
    message, JSON lets SNS pick each protocol's message out of it (an SQS subscriber gets the `sqs` one)."""
    sns = rules.stack.client("sns")
    topic_arn = sns.create_topic(Name=unique("alerts"))["TopicArn"]
    url, queue_arn = rules.queue()
    sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    role = rules.role({"Action": "sns:Publish", "Resource": topic_arn})
    raw, structured = unique("raw"), unique("structured")
    rules.rule(f"SELECT level FROM '{raw}'", [{"sns": {"targetArn": topic_arn, "roleArn": role}}])
    rules.rule(
        f"SELECT 'fallback' AS default, 'for queues' AS sqs FROM '{structured}'",
        [{"sns": {"targetArn": topic_arn, "roleArn": role, "messageFormat": "JSON"}}],
    )
    rules.publish(raw, {"level": "high"})
    rules.publish(structured, {"level": "low"})
    assert rules.messages(url) == ['{"level":"high"}', "for queues"]


def test_sns_without_permission_runs_the_error_action(rules: Rules) -> None:
    """The role is honoured: without `sns:Publish` on the topic the call is refused (SNS AuthorizationError)
    and the errorAction names SnsAction, the topic, and the error in AWS's words."""
    sns = rules.stack.client("sns")
    topic_arn = sns.create_topic(Name=unique("locked"))["TopicArn"]
    role = rules.role({"Action": "sns:Publish", "Resource": topic_arn + "-other"})
    sink, errors = rules.error_sink()
    topic = unique("alerts")
    rules.rule(f"SELECT * FROM '{topic}'", [{"sns": {"targetArn": topic_arn, "roleArn": role}}], sink)
    rules.publish(topic, {"level": "high"}, client_id="sensor-9")
    (error,) = rules.errors(errors)
    assert error["clientId"] == "sensor-9"
    (failure,) = error["failures"]
    assert (failure["failedAction"], failure["failedResource"]) == ("SnsAction", topic_arn)
    message = failure["errorMessage"]
    assert "Error Code: AuthorizationError" in message and "sns:Publish" in message
    assert f"Message arrived on: {topic}, Action: sns" in message
