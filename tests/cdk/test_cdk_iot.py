"""IoT policies and topic rules in the synthesized template."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from cdk.sources import IOT_POLICY_FILES
from iot_rules.definitions import load_rules
from tests.support.cdk import synthesize

POLICY_VARIABLE = "${cognito-identity.amazonaws.com:sub}"


def test_iot_policies_are_the_source_documents_verbatim(synth, source_policy):
    """AWS::IoT::Policy PolicyDocument is the JSON of iot_policies/ unchanged, `${...}` variables intact
    (IoT substitutes them per connection: https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-variables.html),
    but for the partition of its ARNs (`Ref AWS::Partition`, rendered here as `aws`)."""
    for kind, file_name in IOT_POLICY_FILES.items():
        _, policy = synth.one("AWS::IoT::Policy", PolicyName=f"iotstream-{kind}")
        assert synth.text(policy["Properties"]["PolicyDocument"]) == source_policy(file_name)
    assert POLICY_VARIABLE in json.dumps(synth.json["Resources"])


def test_policy_variables_never_go_through_fn_sub(synth):
    """CloudFormation `Fn::Sub` would try to resolve `${cognito-identity...}`; the template must not use it."""
    assert "Fn::Sub" not in json.dumps(synth.json)


def _function_logical_id(synth, name: str) -> str:
    handler = json.loads((synth.config.functions_manifest).read_text())[name]["handler"]
    logical_id, _ = synth.one("AWS::Lambda::Function", Handler=handler)
    return logical_id


def test_each_rule_matches_its_definition(synth):
    """Each iot_rules definition becomes an AWS::IoT::TopicRule with its SQL, SQL version and actions; Lambda
    actions point at the function built from the manifest (https://docs.aws.amazon.com/iot/latest/developerguide/lambda-rule-action.html)."""
    rules = load_rules(synth.config.rules_dir)
    assert len(synth.resources("AWS::IoT::TopicRule")) == len(rules)
    for rule in rules:
        _, resource = synth.one("AWS::IoT::TopicRule", RuleName=rule.name)
        payload = resource["Properties"]["TopicRulePayload"]
        assert payload["Sql"] == rule.sql
        assert payload["AwsIotSqlVersion"] == rule.sql_version
        assert payload["RuleDisabled"] is rule.disabled
        assert len(payload["Actions"]) == len(rule.actions)
        for action, definition in zip(payload["Actions"], rule.actions, strict=True):
            if "lambda" in definition:
                function_id = _function_logical_id(synth, definition["lambda"]["function"])
                assert action == {"Lambda": {"FunctionArn": {"Fn::GetAtt": [function_id, "Arn"]}}}
            else:
                assert action["Republish"]["Topic"] == definition["republish"]["topic"]
                assert action["Republish"]["Qos"] == definition["republish"].get("qos", 0)
        assert ("ErrorAction" in payload) is (rule.error_action is not None)


def test_lambda_permission_is_scoped_to_the_rule(synth):
    """IoT may invoke a function only for the rule that targets it: principal iot.amazonaws.com, SourceArn
    the rule's ARN, SourceAccount this account (https://docs.aws.amazon.com/lambda/latest/dg/services-iot.html)."""
    for rule in load_rules(synth.config.rules_dir):
        rule_id, _ = synth.one("AWS::IoT::TopicRule", RuleName=rule.name)
        for name in rule.lambda_functions():
            function_id = _function_logical_id(synth, name)
            synth.template.has_resource_properties(
                "AWS::Lambda::Permission",
                {
                    "Action": "lambda:InvokeFunction",
                    "Principal": "iot.amazonaws.com",
                    "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
                    "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
                    "SourceAccount": "123456789012",
                },
            )
    invoked = sum(len(set(rule.lambda_functions())) for rule in load_rules(synth.config.rules_dir))
    iot_permissions = [
        p
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "iot.amazonaws.com"
    ]
    assert len(iot_permissions) == invoked


def _role_statements(synth, role_id: str) -> list[dict]:
    statements = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


REPUBLISH_RULE = {
    "ruleName": "alerts_republish",
    "sql": "SELECT * FROM 'devices/+/status' WHERE temperature > 30",
    "awsIotSqlVersion": "2016-03-23",
    "actions": [{"republish": {"topic": "alerts/overheating", "qos": 1}}],
}


@pytest.fixture(scope="module")
def republishing(synth, tmp_path_factory):
    """The stack with one more rule that republishes (the shipped rules only invoke Lambdas)."""
    rules = tmp_path_factory.mktemp("rules")
    for source in synth.config.rules_dir.glob("*.json"):
        shutil.copy(source, rules / source.name)
    (rules / "alerts_republish.json").write_text(json.dumps(REPUBLISH_RULE))
    config = dataclasses.replace(synth.config, rules_dir=rules)
    return synthesize(tmp_path_factory.mktemp("cdk.out.republish"), config)


def test_republish_actions_get_a_role_that_may_publish_only_their_topic(republishing):
    """Republish needs `roleArn`, a role IoT assumes that allows iot:Publish on the target topic
    (https://docs.aws.amazon.com/iot/latest/developerguide/republish-rule-action.html)."""
    synth = republishing
    checked = 0
    for rule in load_rules(synth.config.rules_dir):
        _, resource = synth.one("AWS::IoT::TopicRule", RuleName=rule.name)
        payload = resource["Properties"]["TopicRulePayload"]
        every = [*payload["Actions"], *([payload["ErrorAction"]] if "ErrorAction" in payload else [])]
        for action in every:
            if "Republish" not in action:
                continue
            role_id = action["Republish"]["RoleArn"]["Fn::GetAtt"][0]
            trust = synth.text(
                synth.json["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            )
            assert trust == [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": "iot.amazonaws.com"},
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": "123456789012"},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:iot:eu-west-1:123456789012:rule/{rule.name}"},
                    },
                }
            ]
            statements = synth.text(_role_statements(synth, role_id))
            assert all(s["Action"] == "iot:Publish" for s in statements)
            topic_arn = f"arn:aws:iot:eu-west-1:123456789012:topic/{action['Republish']['Topic']}"
            resources = [
                r
                for s in statements
                for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
            ]
            assert topic_arn in resources
            assert all(r.startswith("arn:aws:iot:eu-west-1:123456789012:topic/") for r in resources)
            checked += 1
    assert checked > 0


def test_iot_policies_fit_the_size_limit(synth):
    """An IoT policy document is at most 2048 characters, not counting whitespace (CreatePolicy API:
    https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html); deploy would fail otherwise."""
    for resource in synth.resources("AWS::IoT::Policy").values():
        compact = "".join(json.dumps(synth.text(resource["Properties"]["PolicyDocument"])).split())
        assert len(compact) <= 2048
