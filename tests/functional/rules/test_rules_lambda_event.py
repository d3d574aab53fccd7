"""The event and context a Lambda gets from the IoT rule `lambda` action, against AWS's documentation.

Event: "When an incoming IoT message triggers the rule, AWS IoT invokes your Lambda function asynchronously and
passes data from the IoT message to the function"; the example event is the greenhouse message itself
(tests/fixtures/aws_events/iot-rule-lambda-greenhouse.json, https://docs.aws.amazon.com/lambda/latest/dg/services-iot.html).
With `SELECT *` the event is exactly that message: no topic, client id or envelope is added.
Context: the attributes of https://docs.aws.amazon.com/lambda/latest/dg/python-context.html, built as AWS's
runtime interface client builds them (`identity` always an object, here with both fields None).
"""

from __future__ import annotations

import json
from typing import Any

from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore
from tests.support.aws_events import sample


def captured(stack: RunningLocalcore, payload: bytes) -> dict[str, Any]:
    """Publish to the greenhouse rule's topic; return what the capture function reported."""
    watcher = MqttTestClient(stack.mqtt_port, client_id="watch-capture", username="watch-capture").connect()
    device = MqttTestClient(stack.mqtt_port, client_id="greenhouse", username="greenhouse").connect()
    with watcher, device:
        assert watcher.subscribe("chat/capture/response/+", qos=1) == [1]
        device.publish("devices/greenhouse/moisture", payload, qos=1)
        (message,) = watcher.expect(1, timeout=30)
    report: dict[str, Any] = json.loads(message.payload)
    return report


def test_select_star_hands_the_lambda_exactly_the_documented_message(stack: RunningLocalcore) -> None:
    """The greenhouse example message in, the same JSON object out as the event: keys, values and types."""
    documented = sample("iot-rule-lambda-greenhouse.json")
    report = captured(stack, json.dumps(documented).encode())
    assert report["event"] == documented


def test_an_asynchronous_invocation_has_the_python_runtime_context(stack: RunningLocalcore) -> None:
    """python-context.html lists the attributes; awslambdaric sets `identity` to an object whose fields are None
    for non-mobile callers, and `client_context`/`tenant_id` to None."""
    context = captured(stack, json.dumps(sample("iot-rule-lambda-greenhouse.json")).encode())["context"]
    assert context["function_name"] == "capture" and context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].endswith(":function:capture")
    assert context["memory_limit_in_mb"] == "128"  # a string, as the runtime reads it from the environment
    assert context["log_group_name"] == "/aws/lambda/capture" and context["log_stream_name"]
    assert context["identity"] == {"cognito_identity_id": None, "cognito_identity_pool_id": None}
    assert context["client_context"] is None and context["tenant_id"] is None
    assert 0 < context["remaining_ms"] <= 10_000
