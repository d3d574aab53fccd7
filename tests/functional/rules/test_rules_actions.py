"""Rules end to end with paho: publish -> rule -> Lambda / republish -> subscriber, errorAction, WHERE, disabled.

AWS pages: iot-rules.html, lambda-rule-action.html, republish-rule-action.html, rule-error-handling.html.
"""

from __future__ import annotations

import base64
import json

from localcore.broker.message import Message
from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore


def _client(stack: RunningLocalcore, identity: str, protocol: int = 5) -> MqttTestClient:
    return MqttTestClient(stack.mqtt_port, client_id=identity, username=identity, protocol=protocol).connect()


def test_rule_invokes_lambda_which_publishes_through_iot_data(stack: RunningLocalcore) -> None:
    """lambda-rule-action.html: the SELECT output is the async event; the function answers via iot-data Publish."""
    with _client(stack, "watcher-lambda") as watcher, _client(stack, "sensor-d1") as device:
        assert watcher.subscribe("chat/+/response/+", qos=1) == [1]
        device.publish("devices/d1/telemetry", json.dumps({"temperature": 12, "rid": "cold"}), qos=1)
        device.publish("devices/d1/telemetry", json.dumps({"temperature": 42, "rid": "hot"}), qos=1)
        received = watcher.expect(1, timeout=30)
        stack.wait_rules_idle()
        stack.wait_lambdas_idle()
    assert [m.topic for m in watcher.received] == ["chat/d1/response/hot"]
    event = json.loads(received[0].payload)["event"]
    assert event == {"temperature": 42, "rid": "hot", "device": "d1", "client": "sensor-d1"}


def test_republish_renders_topic_qos_and_mqtt5_headers(stack: RunningLocalcore) -> None:
    """republish-rule-action.html: `${topic(2)}` templates in topic and headers; QoS 1; MQTT 5 headers."""
    with _client(stack, "watcher-alerts") as watcher, _client(stack, "sensor-d7") as device:
        assert watcher.subscribe("alerts/+/status", qos=1) == [1]
        device.publish("devices/d7/status", json.dumps({"status": "ok", "ignored": 1}), qos=1)
        (message,) = watcher.expect(1)
    assert message.topic == "alerts/d7/status"
    assert message.qos == 1
    assert json.loads(message.payload) == {"status": "ok", "device": "d7"}
    props = message.properties
    assert props["ContentType"] == "application/json"
    assert props["PayloadFormatIndicator"] == 1
    assert props["ResponseTopic"] == "devices/d7/commands"
    assert bytes.fromhex(props["CorrelationData"]) == b"correlation-1"
    assert props["UserProperty"] == [("device", "d7"), ("source", "rules")]
    assert 0 < props["MessageExpiryInterval"] <= 120


def test_republish_to_a_v311_subscriber_drops_the_mqtt5_headers(stack: RunningLocalcore) -> None:
    """MQTT 3.1.1 has no properties: the republished message arrives with topic, payload and QoS only."""
    with _client(stack, "watcher-v311", protocol=4) as watcher, _client(stack, "sensor-d8") as device:
        assert watcher.subscribe("alerts/d8/status", qos=1) == [1]
        device.publish("devices/d8/status", json.dumps({"status": "down"}), qos=1)
        (message,) = watcher.expect(1)
    assert (message.topic, message.qos, message.properties) == ("alerts/d8/status", 1, {})


def test_failing_lambda_action_runs_error_action_with_aws_fields(stack: RunningLocalcore) -> None:
    """rule-error-handling.html: one errorAction message per rule and message, with ruleName, topic,
    clientId, cloudwatchTraceId, base64OriginalPayload and failures[]; the other actions still run."""
    payload = json.dumps({"reading": 1}).encode()
    with _client(stack, "watcher-errors") as watcher, _client(stack, "sensor-d2") as device:
        assert watcher.subscribe([("errors/+", 1), ("broken/ok", 1)]) == [1, 1]
        device.publish("devices/d2/broken", payload, qos=1)
        received = watcher.expect(2)
        stack.wait_rules_idle()
    by_topic = {m.topic: m for m in received}
    assert json.loads(by_topic["broken/ok"].payload) == {"reading": 1}
    error = json.loads(by_topic["errors/d2"].payload)
    assert error["ruleName"] == "broken_lambda"
    assert error["topic"] == "devices/d2/broken"
    assert error["clientId"] == "sensor-d2"
    assert base64.b64decode(error["base64OriginalPayload"]) == payload
    assert error["cloudwatchTraceId"]
    (failure,) = error["failures"]
    assert failure["failedAction"] == "LambdaAction"
    assert failure["failedResource"] == "arn:aws:lambda:us-east-1:000000000000:function:does_not_exist"
    assert "does_not_exist" in failure["errorMessage"]
    assert len(watcher.received) == 2


def test_undefined_where_runs_nothing(stack: RunningLocalcore) -> None:
    """iot-sql-where.html: actions run only when WHERE is exactly true; a missing field is Undefined."""
    engine = stack.core.engine
    assert engine is not None
    runs = stack.thread.run(engine.process(Message("where/in", b'{"other": 1}')))
    assert [(run.rule, run.matched, run.actions) for run in runs] == [("where_gate", False, [])]
    with _client(stack, "watcher-where") as watcher, _client(stack, "sensor-where") as device:
        assert watcher.subscribe("where/out", qos=1) == [1]
        device.publish("where/in", json.dumps({"other": 1}), qos=1)
        device.publish("where/in", json.dumps({"reading": {"value": "not a number"}}), qos=1)
        device.publish("where/in", json.dumps({"reading": {"value": 11}}), qos=1)
        watcher.expect(1)
        stack.wait_rules_idle()
    assert [json.loads(m.payload) for m in watcher.received] == [{"reading": {"value": 11}}]


def test_disabled_rule_does_not_fire_until_enabled(stack: RunningLocalcore) -> None:
    """API_DisableTopicRule / API_EnableTopicRule: a disabled rule is skipped; enabling takes effect at once."""
    iot = stack.client("iot")
    with _client(stack, "watcher-toggle") as watcher, _client(stack, "sensor-toggle") as device:
        assert watcher.subscribe("toggle/out", qos=1) == [1]
        device.publish("toggle/in", b"{}", qos=1)
        watcher.expect(1)
        stack.wait_rules_idle()
        iot.enable_topic_rule(ruleName="a_disabled")
        try:
            device.publish("toggle/in", b"{}", qos=1)
            watcher.expect(3)
            stack.wait_rules_idle()
        finally:
            iot.disable_topic_rule(ruleName="a_disabled")
    fired = [json.loads(m.payload)["fired_by"] for m in watcher.received]
    assert fired == ["b_sentinel", "a_disabled", "b_sentinel"]


def test_http_publishes_reach_rules_with_clientid_na(stack: RunningLocalcore) -> None:
    """iot-sql-functions.html: clientid() is "n/a" and traceid() Undefined for iot-data HTTP publishes."""
    with _client(stack, "watcher-http") as watcher:
        assert watcher.subscribe("http/out", qos=1) == [1]
        stack.client("iot-data").publish(topic="http/in", qos=1, payload=b'{"via": "http"}')
        (message,) = watcher.expect(1)
    assert json.loads(message.payload) == {"via": "http", "client": "n/a", "no_trace": True}


def test_error_action_to_cloudwatch_logs_writes_the_error_message_to_the_log_group(
    stack: RunningLocalcore,
) -> None:
    """cloudwatch-logs-rule-action.html: the `cloudwatchLogs` action sends the message to a log group (batchMode
    false: the whole message is one log event); as an errorAction the message is the AWS error-action JSON
    (rule-error-handling.html). localcore writes the group's events to <state dir>/rule-logs/<group>.log."""
    iot = stack.client("iot")
    iot.create_topic_rule(
        ruleName="logs_on_failure",
        topicRulePayload={
            "sql": "SELECT * FROM 'devices/+/logs'",
            "awsIotSqlVersion": "2016-03-23",
            "actions": [{"lambda": {"functionArn": "arn:aws:lambda:us-east-1:000000000000:function:absent"}}],
            "errorAction": {
                "cloudwatchLogs": {
                    "logGroupName": "/test/rule-errors",
                    "roleArn": "arn:aws:iam::000000000000:role/logs",
                }
            },
        },
    )
    try:
        with _client(stack, "sensor-logs") as device:
            device.publish("devices/d9/logs", b'{"reading": 3}', qos=1)
            stack.wait_rules_idle()
    finally:
        iot.delete_topic_rule(ruleName="logs_on_failure")
    (event,) = stack.core.rule_logs.read("/test/rule-errors")
    assert event["logGroupName"] == "/test/rule-errors"
    error = json.loads(str(event["message"]))
    assert (error["ruleName"], error["topic"], error["clientId"]) == (
        "logs_on_failure",
        "devices/d9/logs",
        "sensor-logs",
    )
    assert base64.b64decode(error["base64OriginalPayload"]) == b'{"reading": 3}'
    assert [f["failedAction"] for f in error["failures"]] == ["LambdaAction"]
    assert stack.core.rule_logs.path("/test/rule-errors").parent.name == "rule-logs"
