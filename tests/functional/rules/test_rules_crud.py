"""Topic-rule CRUD through boto3 `iot`.

AWS pages: API_CreateTopicRule.html (SqlParseException), API_GetTopicRule.html, API_ListTopicRules.html,
API_ReplaceTopicRule.html, API_DeleteTopicRule.html; rules take effect as soon as they are created.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore


def _client(stack: RunningLocalcore, identity: str) -> MqttTestClient:
    return MqttTestClient(stack.mqtt_port, client_id=identity, username=identity).connect()


ROLE_ARN = "arn:aws:iam::000000000000:role/iotstream-rules-republish"  # botocore requires one for republish


def _republish_rule(sql: str, topic: str) -> dict[str, Any]:
    return {
        "sql": sql,
        "awsIotSqlVersion": "2016-03-23",
        "actions": [{"republish": {"topic": topic, "qos": 1, "roleArn": ROLE_ARN}}],
    }


def test_bad_sql_is_refused_with_sql_parse_exception_and_position(stack: RunningLocalcore) -> None:
    """API_CreateTopicRule.html: SQL that does not parse -> SqlParseException (400); nothing is stored."""
    iot = stack.client("iot")
    with pytest.raises(iot.exceptions.SqlParseException) as caught:
        iot.create_topic_rule(
            ruleName="bad_sql", topicRulePayload=_republish_rule("SELECT * FORM 'a/b'", "x/y")
        )
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"].endswith("at 1:10")  # line:column of `FORM`
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_topic_rule(ruleName="bad_sql")


def test_rule_lifecycle_create_get_list_replace_disable_enable_delete(stack: RunningLocalcore) -> None:
    """A created rule fires at once; replace changes what it does; disable/enable/delete take effect at once."""
    iot = stack.client("iot")
    name = f"crud_{uuid.uuid4().hex[:8]}"
    iot.create_topic_rule(
        ruleName=name,
        topicRulePayload=_republish_rule("SELECT 'v1' AS version FROM 'devices/+/crud'", "crud/out"),
    )
    try:
        rule = iot.get_topic_rule(ruleName=name)
        assert rule["ruleArn"] == f"arn:aws:iot:us-east-1:000000000000:rule/{name}"
        assert rule["rule"]["sql"] == "SELECT 'v1' AS version FROM 'devices/+/crud'"
        assert rule["rule"]["ruleDisabled"] is False
        listed = {item["ruleName"]: item for item in iot.list_topic_rules()["rules"]}
        assert listed[name]["topicPattern"] == "devices/+/crud"
        with pytest.raises(ClientError) as duplicate:
            iot.create_topic_rule(ruleName=name, topicRulePayload=_republish_rule("SELECT * FROM 'a'", "b"))
        assert duplicate.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"

        with _client(stack, "watcher-crud") as watcher, _client(stack, "sensor-crud") as device:
            assert watcher.subscribe("crud/out", qos=1) == [1]
            device.publish("devices/c1/crud", b"{}", qos=1)
            watcher.expect(1)
            iot.replace_topic_rule(
                ruleName=name,
                topicRulePayload=_republish_rule("SELECT 'v2' AS version FROM 'devices/+/crud'", "crud/out"),
            )
            device.publish("devices/c1/crud", b"{}", qos=1)
            watcher.expect(2)
            iot.disable_topic_rule(ruleName=name)
            assert iot.get_topic_rule(ruleName=name)["rule"]["ruleDisabled"] is True
            assert name in [r["ruleName"] for r in iot.list_topic_rules(ruleDisabled=True)["rules"]]
            device.publish("devices/c1/crud", b"{}", qos=1)
            stack.wait_rules_idle()
            iot.enable_topic_rule(ruleName=name)
            device.publish("devices/c1/crud", b"{}", qos=1)
            watcher.expect(3)
            stack.wait_rules_idle()
        versions = [json.loads(m.payload)["version"] for m in watcher.received]
        assert versions == ["v1", "v2", "v2"]
    finally:
        iot.delete_topic_rule(ruleName=name)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_topic_rule(ruleName=name)
    assert name not in [r["ruleName"] for r in iot.list_topic_rules()["rules"]]
