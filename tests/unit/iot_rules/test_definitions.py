"""Rule definitions follow AWS's TopicRulePayload rules and resolve Lambda names to ARNs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iot_rules.definitions import DEFAULT_SQL_VERSION, RuleDefinitionError, load_rules, parse_rule

FUNCTIONS = json.loads(
    (Path(__file__).parents[3] / "lambdas" / "iotstream_lambdas" / "functions.json").read_text()
)


def test_project_rules_load_and_reference_known_functions() -> None:
    """Every shipped rule is valid and every Lambda it names exists in lambdas/iotstream_lambdas/functions.json."""
    rules = load_rules()
    assert {rule.name for rule in rules} == {"iotstream_prompt", "iotstream_cancel"}
    for rule in rules:
        for function in rule.lambda_functions():
            assert function in FUNCTIONS


def test_payload_resolves_function_arns() -> None:
    """The lambda action carries a functionArn (API_LambdaAction) in the TopicRulePayload."""
    rule = next(rule for rule in load_rules() if rule.name == "iotstream_prompt")
    payload = rule.to_topic_rule_payload(
        lambda name: f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    )
    assert payload["actions"] == [
        {"lambda": {"functionArn": "arn:aws:lambda:us-east-1:000000000000:function:prompt"}}
    ]
    assert payload["awsIotSqlVersion"] == "2016-03-23"
    assert payload["errorAction"] == {"cloudwatchLogs": {"logGroupName": "/iotstream/rule-errors"}}


def test_sql_version_defaults_to_2015_10_08() -> None:
    """CloudFormation TopicRulePayload: awsIotSqlVersion defaults to 2015-10-08 when omitted."""
    rule = parse_rule({"ruleName": "r", "sql": "SELECT * FROM 'a'"})
    assert rule.sql_version == DEFAULT_SQL_VERSION == "2015-10-08"


@pytest.mark.parametrize(
    ("document", "place"),
    [
        ({"ruleName": "bad-name", "sql": "SELECT * FROM 'a'"}, "ruleName"),
        ({"ruleName": "r", "sql": ""}, "sql"),
        ({"ruleName": "r", "sql": "SELECT * FROM 'a'", "awsIotSqlVersion": "2020"}, "awsIotSqlVersion"),
        ({"ruleName": "r", "sql": "SELECT * FROM 'a'", "actions": [{"iotEvents": {}}]}, "actions[0]"),
        ({"ruleName": "r", "sql": "SELECT * FROM 'a'", "actions": [{"s3": {}}]}, "actions[0].s3.roleArn"),
        (
            {"ruleName": "r", "sql": "SELECT * FROM 'a'", "actions": [{"lambda": {}}]},
            "actions[0].lambda.function",
        ),
        (
            {
                "ruleName": "r",
                "sql": "SELECT * FROM 'a'",
                "actions": [{"republish": {"topic": "t", "qos": 2}}],
            },
            "actions[0].republish.qos",
        ),
        (
            {"ruleName": "r", "sql": "SELECT * FROM 'a'", "actions": [{"republish": {"topic": "t"}}] * 11},
            "actions",
        ),
    ],
)
def test_bad_definitions_name_the_offending_place(document: dict[str, object], place: str) -> None:
    """Rule names match ^[a-zA-Z0-9_]+$, at most 10 actions, republish QoS 0 or 1 (API_TopicRule)."""
    with pytest.raises(RuleDefinitionError) as error:
        parse_rule(document)
    assert error.value.place == place
