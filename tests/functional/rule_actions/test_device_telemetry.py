"""A device's telemetry, published with paho and its X.509 certificate, reaches an SQS queue and a DynamoDB
table through topic rules, and the user's own boto3 code reads both back through the endpoints `iotstream up`
exports; a revoked certificate is refused.

AWS pages: https://docs.aws.amazon.com/iot/latest/developerguide/sqs-rule-action.html,
https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html,
https://docs.aws.amazon.com/iot/latest/developerguide/dynamodb-v2-rule-action.html,
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html (AWS_ENDPOINT_URL_<SERVICE>).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from boto3.session import Session

from clients.local_app import local_config
from localcore.testing import RunningLocalcore, provision_device
from tests.support.device_support import THING_POLICY
from tests.support.rule_actions import IOT_TRUST, unique

NOT_AUTHORIZED = 0x87


@pytest.fixture(scope="module")
def device_stack() -> Iterator[RunningLocalcore]:
    """A stack with the `mqtts` listener: devices connect with their X.509 client certificates."""
    with RunningLocalcore(local_config(mqtts_port=0)) as running:
        yield running


def test_device_telemetry_reaches_a_queue_and_a_table_read_with_the_exported_endpoints(
    device_stack: RunningLocalcore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The user's setup and checks are plain boto3 with `AWS_ENDPOINT_URL_*` exported: the device is made with
    CreateKeysAndCertificate + CreatePolicy + AttachPolicy + CreateThing + AttachThingPrincipal and publishes
    with paho and its client certificate at QoS 1; the rules' roles allow exactly `sqs:SendMessage` and
    `dynamodb:PutItem`. Once its certificate is REVOKED the device is refused (UpdateCertificate: "Certificates
    must be in the ACTIVE state to authenticate devices")."""
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
    sql = "SELECT topic(2) AS device, seq, temperature FROM 'things/+/telemetry'"
    for name, action in (
        ("telemetry_to_sqs", {"sqs": {"queueUrl": queue, "roleArn": role["Arn"]}}),
        ("telemetry_to_dynamodb", {"dynamoDBv2": {"putItem": {"tableName": table}, "roleArn": role["Arn"]}}),
    ):
        iot.create_topic_rule(ruleName=name, topicRulePayload={"sql": sql, "actions": [action]})

    device = provision_device(iot, tmp_path, THING_POLICY, thing="sensor-1")
    with device_stack.device_client(device).connect() as paho_device:
        for seq, temperature in ((1, 20.5), (2, 21.0)):
            assert (
                paho_device.publish(
                    "things/sensor-1/telemetry", json.dumps({"seq": seq, "temperature": temperature}), qos=1
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

    iot.update_certificate(certificateId=device.certificate_id, newStatus="REVOKED")
    refused = device_stack.device_client(device).connect(expect_success=False)
    assert refused.connack is not None and refused.connack.reason_code == NOT_AUTHORIZED
    refused.disconnect()
