"""Rule actions act as their role (`roleArn`), authorized by IAM like every other call to localcore.

AWS pages: https://docs.aws.amazon.com/iot/latest/developerguide/iot-create-role.html (IoT assumes the role;
its trust policy must allow iot.amazonaws.com),
https://docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html
(`aws:SourceArn` is the rule's ARN, `aws:SourceAccount` the account),
https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html (a permission problem runs
the errorAction).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.rule_actions import ACCOUNT, REGION, Rules, unique


def _only_failure(rules: Rules, errors: str) -> dict[str, Any]:
    (error,) = rules.errors(errors)
    (failure,) = error["failures"]
    return failure


def test_a_role_without_send_message_fails_the_action_and_runs_the_error_action(rules: Rules) -> None:
    """rule-error-handling.html ("A rule doesn't have permission to access..."): the role allows
    sqs:SendMessage on another queue only, so SQS answers AccessDenied and the errorAction says so."""
    url, _ = rules.queue()
    _, other = rules.queue()
    role = rules.role({"Action": "sqs:SendMessage", "Resource": other})
    sink, errors = rules.error_sink()
    topic = unique("telemetry")
    rules.rule(f"SELECT * FROM '{topic}'", [{"sqs": {"queueUrl": url, "roleArn": role}}], sink)
    rules.publish(topic, {"t": 1})
    assert rules.messages(url) == []
    failure = _only_failure(rules, errors)
    assert failure["failedAction"] == "SqsAction"
    assert "Error Code: AccessDenied" in failure["errorMessage"]
    assert f"assumed-role/{role.rsplit('/', 1)[1]}/" in failure["errorMessage"]


def test_a_missing_role_or_one_iot_may_not_assume_fails_the_action(rules: Rules) -> None:
    """iot-create-role.html: IoT must be able to assume the role: a role that does not exist, or whose trust
    policy names another service, fails the action before any call."""
    url, arn = rules.queue()
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique('nobody')}"
    lambda_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    untrusting = rules.role({"Action": "sqs:SendMessage", "Resource": arn}, trust=lambda_trust)
    for role, words in (
        (missing, "does not exist"),
        (untrusting, "trust policy does not allow iot.amazonaws.com"),
    ):
        sink, errors = rules.error_sink()
        topic = unique("telemetry")
        rules.rule(f"SELECT * FROM '{topic}'", [{"sqs": {"queueUrl": url, "roleArn": role}}], sink)
        rules.publish(topic, {"t": 1})
        assert words in _only_failure(rules, errors)["errorMessage"]
    assert rules.messages(url) == []


def test_a_trust_policy_scoped_to_one_rule_serves_that_rule_only(rules: Rules) -> None:
    """cross-service-confused-deputy-prevention.html: `ArnLike aws:SourceArn` with the rule's ARN and
    `StringEquals aws:SourceAccount` let IoT assume the role for that rule and no other."""
    url, arn = rules.queue()
    allowed_rule = unique("scoped").replace("-", "_")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:iot:{REGION}:{ACCOUNT}:rule/{allowed_rule}"},
                },
            }
        ],
    }
    role = rules.role({"Action": "sqs:SendMessage", "Resource": arn}, trust=trust)
    topic = unique("telemetry")
    payload = {"sql": f"SELECT * FROM '{topic}'", "actions": [{"sqs": {"queueUrl": url, "roleArn": role}}]}
    rules.stack.client("iot").create_topic_rule(ruleName=allowed_rule, topicRulePayload=payload)
    sink, errors = rules.error_sink()
    rules.rule(
        f"SELECT 'other rule' AS origin FROM '{topic}'", [{"sqs": {"queueUrl": url, "roleArn": role}}], sink
    )
    rules.publish(topic, {"origin": "scoped rule"})
    assert [json.loads(body) for body in rules.messages(url)] == [{"origin": "scoped rule"}]
    assert "trust policy" in _only_failure(rules, errors)["errorMessage"]


def test_a_policy_change_applies_to_the_next_message(rules: Rules) -> None:
    """IAM changes apply to the next action: a managed policy attached after a refusal lets the next message
    through (the role's permissions are its inline and attached managed policies)."""
    url, arn = rules.queue()
    role = rules.role()
    topic = unique("telemetry")
    sink, errors = rules.error_sink()
    rules.rule(f"SELECT * FROM '{topic}'", [{"sqs": {"queueUrl": url, "roleArn": role}}], sink)
    rules.publish(topic, {"n": 1})
    assert "Error Code: AccessDenied" in _only_failure(rules, errors)["errorMessage"]
    iam = rules.stack.client("iam")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}],
    }
    policy = iam.create_policy(PolicyName=unique("send"), PolicyDocument=json.dumps(document))["Policy"][
        "Arn"
    ]
    iam.attach_role_policy(RoleName=role.rsplit("/", 1)[1], PolicyArn=policy)
    rules.publish(topic, {"n": 2})
    assert [json.loads(body) for body in rules.messages(url)] == [{"n": 2}]
    assert rules.errors(errors) == []


def test_an_action_localcore_does_not_emulate_is_refused_at_creation_naming_it(rules: Rules) -> None:
    """CreateTopicRule with an action type localcore does not run (a valid AWS action, `stepFunctions`)
    answers InvalidRequestException naming it, rather than a rule that silently does nothing."""
    action = {"stepFunctions": {"stateMachineName": "m", "roleArn": rules.role()}}
    with pytest.raises(ClientError) as refused:
        rules.rule("SELECT * FROM 'a'", [action])
    error = refused.value.response["Error"]
    assert (
        error["Code"] == "InvalidRequestException"
        and "unsupported action 'stepFunctions'" in error["Message"]
    )
