"""A device's telemetry, published with paho, reaches an SQS queue and a DynamoDB table through topic rules,
and the user's own boto3 code reads both back through the endpoints `iotstream up` exports.

AWS pages: https://docs.aws.amazon.com/iot/latest/developerguide/sqs-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/dynamodb-v2-rule-action.html,
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html (AWS_ENDPOINT_URL_<SERVICE>).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from boto3.session import Session

from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore, free_port_config
from tests.functional.rule_actions.conftest import IOT_TRUST, unique

DEVICE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": "arn:aws:iot:*:*:client/${cognito-identity.amazonaws.com:sub}",
        },
        {
            "Effect": "Allow",
            "Action": "iot:Publish",
            "Resource": "arn:aws:iot:*:*:topic/fleet/${cognito-identity.amazonaws.com:sub}/telemetry",
        },
    ],
}


@pytest.fixture(scope="module")
def device_stack() -> Iterator[RunningLocalcore]:
    """Local mode with a device policy: paho connects with its username as its identity."""
    config = dataclasses.replace(free_port_config(), local_mode_policy="device")
    with RunningLocalcore(config) as running:
        running.client("iot").create_policy(
            policyName="iotstream-device", policyDocument=json.dumps(DEVICE_POLICY)
        )
        yield running


def test_device_telemetry_reaches_a_queue_and_a_table_read_with_the_exported_endpoints(
    device_stack: RunningLocalcore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's setup and checks are plain boto3 with `AWS_ENDPOINT_URL_*` exported; the rules' roles allow
    exactly `sqs:SendMessage` and `dynamodb:PutItem`; the device publishes with paho at QoS 1."""
    for key, value in device_stack.endpoints["environment"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", device_stack.endpoints["admin_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", device_stack.endpoints["admin_secret_access_key"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    session = Session()  # what `boto3.client(...)` is in a fresh process: it reads the environment
    sqs, dynamodb, iam, iot = (session.client(name) for name in ("sqs", "dynamodb", "iam", "iot"))

    queue = sqs.create_queue(QueueName=unique("telemetry"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    table = unique("telemetry")
    table_arn = dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "device", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "device", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    role = iam.create_role(
        RoleName=unique("telemetry-rules"), AssumeRolePolicyDocument=json.dumps(IOT_TRUST)
    )["Role"]
    allowed = [("sqs:SendMessage", queue_arn), ("dynamodb:PutItem", table_arn)]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in allowed],
    }
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="telemetry", PolicyDocument=json.dumps(policy))
    sql = "SELECT topic(2) AS device, seq, temperature FROM 'fleet/+/telemetry'"
    for name, action in (
        ("telemetry_to_sqs", {"sqs": {"queueUrl": queue, "roleArn": role["Arn"]}}),
        ("telemetry_to_dynamodb", {"dynamoDBv2": {"putItem": {"tableName": table}, "roleArn": role["Arn"]}}),
    ):
        iot.create_topic_rule(ruleName=name, topicRulePayload={"sql": sql, "actions": [action]})

    with MqttTestClient(
        device_stack.mqtt_port, client_id="sensor-1", username="sensor-1"
    ).connect() as device:
        for seq, temperature in ((1, 20.5), (2, 21.0)):
            assert (
                device.publish(
                    "fleet/sensor-1/telemetry", json.dumps({"seq": seq, "temperature": temperature}), qos=1
                )
                == 0
            )
    device_stack.wait_rules_idle()

    bodies = [
        json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    ]
    assert sorted(bodies, key=lambda b: b["seq"]) == [
        {"device": "sensor-1", "seq": 1, "temperature": 20.5},
        {"device": "sensor-1", "seq": 2, "temperature": 21.0},
    ]
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="device = :d",
        ExpressionAttributeValues={":d": {"S": "sensor-1"}},
    )["Items"]
    # DynamoDB stores numbers normalised: 21.0 reads back as "21"
    assert [(item["seq"]["N"], item["temperature"]["N"]) for item in items] == [("1", "20.5"), ("2", "21")]
