"""Rule action parameters are checked against AWS IoT's API model (botocore's copy of it:
https://docs.aws.amazon.com/iot/latest/apireference/API_Action.html and each action's shape)."""

from __future__ import annotations

from typing import Any

import pytest

from iot_rules.action_params import action_shapes
from iot_rules.definitions import SUPPORTED_ACTIONS, RuleDefinitionError, parse_rule
from localcore.rules.actions import ACTION_NAMES
from localcore.rules.engine import PLANNERS

ROLE = "arn:aws:iam::000000000000:role/r"


def _rule(action: dict[str, Any]) -> dict[str, Any]:
    return {"ruleName": "r", "sql": "SELECT * FROM 'a'", "actions": [action]}


def test_failed_action_names_are_the_api_shape_names() -> None:
    """rule-error-handling.html: `failedAction` is the action's shape name ("S3Action", "LambdaAction")."""
    assert {kind: action_shapes()[kind].name for kind in SUPPORTED_ACTIONS} == ACTION_NAMES


def test_every_supported_action_has_a_runner() -> None:
    """Each supported action type is either an AWS call planned in `PLANNERS` or one the engine runs itself."""
    assert set(SUPPORTED_ACTIONS) == {*PLANNERS, "lambda", "republish", "cloudwatchLogs", "http"}


@pytest.mark.parametrize(
    ("action", "place", "words"),
    [
        ({"sqs": {"queueUrl": "q"}}, "actions[0].sqs.roleArn", "required"),
        ({"sqs": {"queueUrl": "", "roleArn": ROLE}}, "actions[0].sqs.queueUrl", "non-empty"),
        (
            {"sqs": {"queueUrl": "q", "roleArn": ROLE, "fifo": True}},
            "actions[0].sqs.fifo",
            "unknown parameter",
        ),
        (
            {"sqs": {"queueUrl": "q", "roleArn": ROLE, "useBase64": "yes"}},
            "actions[0].sqs.useBase64",
            "true or false",
        ),
        (
            {"sns": {"targetArn": "t", "roleArn": ROLE, "messageFormat": "XML"}},
            "actions[0].sns.messageFormat",
            "one of",
        ),
        (
            {"firehose": {"deliveryStreamName": "d", "roleArn": ROLE, "separator": ";"}},
            "actions[0].firehose.separator",
            "must match",
        ),
        (
            {"dynamoDBv2": {"putItem": {}, "roleArn": ROLE}},
            "actions[0].dynamoDBv2.putItem.tableName",
            "required",
        ),
        (
            {
                "dynamoDB": {
                    "tableName": "t",
                    "hashKeyField": "k",
                    "hashKeyValue": "v",
                    "hashKeyType": "BINARY",
                    "roleArn": ROLE,
                }
            },
            "actions[0].dynamoDB.hashKeyType",
            "one of",
        ),
        (
            {"http": {"url": "http://x", "headers": [{"key": "a"}]}},
            "actions[0].http.headers[0].value",
            "required",
        ),
    ],
)
def test_parameters_that_break_the_shape_are_refused_naming_the_place(
    action: dict[str, Any], place: str, words: str
) -> None:
    """CreateTopicRule refuses parameters its action shape does not allow: required members, unknown members,
    types, enums (messageFormat RAW|JSON, DynamoKeyType STRING|NUMBER) and patterns (firehose separator)."""
    with pytest.raises(RuleDefinitionError) as refused:
        parse_rule(_rule(action))
    assert refused.value.place == place
    assert words in str(refused.value)


def test_actions_with_every_parameter_are_accepted() -> None:
    """The AWS pages' own examples parse (republish without roleArn too: the CDK stack makes its role)."""
    actions = [
        {
            "sqs": {
                "queueUrl": "https://sqs.us-east-2.amazonaws.com/123456789012/${topic()}",
                "useBase64": True,
                "roleArn": ROLE,
            }
        },
        {
            "sns": {
                "targetArn": "arn:aws:sns:us-east-1:123456789012:${topic()}",
                "messageFormat": "JSON",
                "roleArn": ROLE,
            }
        },
        {
            "s3": {
                "bucketName": "my-bucket",
                "cannedAcl": "public-read",
                "key": "${topic()}/${timestamp()}",
                "roleArn": ROLE,
            }
        },
        {"kinesis": {"streamName": "${topic()}", "partitionKey": "${timestamp()}", "roleArn": ROLE}},
        {
            "firehose": {
                "deliveryStreamName": "${topic()}",
                "separator": "\r\n",
                "batchMode": False,
                "roleArn": ROLE,
            }
        },
        {"dynamoDBv2": {"putItem": {"tableName": "${topic()}"}, "roleArn": ROLE}},
        {
            "cloudwatchMetric": {
                "metricName": "${topic()}",
                "metricNamespace": "${namespace}",
                "metricUnit": "${unit}",
                "metricValue": "${value}",
                "roleArn": ROLE,
            }
        },
        {
            "http": {
                "url": "https://www.example.com/subpath",
                "confirmationUrl": "https://www.example.com",
                "headers": [{"key": "k", "value": "${v}"}],
            }
        },
        {"republish": {"topic": "out", "qos": 1}},
    ]
    rule = parse_rule({"ruleName": "r", "sql": "SELECT * FROM 'a'", "actions": actions})
    assert len(rule.actions) == len(actions)
