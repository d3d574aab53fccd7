"""Observability in the template: IoT logging, rule errors to CloudWatch Logs, alarms, one dashboard."""

from __future__ import annotations

import json

from cdk.sources import load_functions
from iot_rules.definitions import load_rules

ERROR_LOG_GROUP = "/iotstream/rule-errors"


def _alarms(synth) -> list[dict]:
    return [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]


def _role_statements(synth, role_id: str) -> list[dict]:
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in synth.text(policy["Properties"]["PolicyDocument"]["Statement"])
    ]


def test_iot_logs_errors_with_a_role_iot_assumes(synth, tuned):
    """AWS::IoT::Logging at ERROR (aws-resource-iot-logging.html) with a role iot.amazonaws.com assumes, allowed
    the AWSIoTLogging actions on the AWSIotLogsV2 group only; `-c iotLogging=false` leaves the account's
    logging alone (CloudFormation cannot take over an existing setting)."""
    _, logging = synth.one("AWS::IoT::Logging")
    assert logging["Properties"]["DefaultLogLevel"] == "ERROR"
    assert logging["Properties"]["AccountId"] == "123456789012"
    role_id = logging["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    trust = synth.json["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "iot.amazonaws.com"}]
    (statement,) = _role_statements(synth, role_id)
    assert "logs:PutLogEvents" in statement["Action"]
    assert statement["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:AWSIotLogsV2",
        "arn:aws:logs:eu-west-1:123456789012:log-group:AWSIotLogsV2:*",
    ]
    assert not tuned.resources("AWS::IoT::Logging")


def test_rule_errors_go_to_a_cloudwatch_log_group(synth):
    """Each rule's errorAction is `cloudwatchLogs` (cloudwatch-logs-rule-action.html) to a log group the stack
    creates, through a role allowed logs:CreateLogStream, DescribeLogStreams and PutLogEvents on that group only;
    nothing republishes to a topic nobody reads."""
    group_id, group = synth.one("AWS::Logs::LogGroup", LogGroupName=ERROR_LOG_GROUP)
    assert group["Properties"]["RetentionInDays"] == 30
    with_error_action = [rule for rule in load_rules(synth.config.rules_dir) if rule.error_action]
    assert {rule.name for rule in with_error_action} >= {"iotstream_prompt", "iotstream_cancel"}
    for rule in with_error_action:
        _, resource = synth.one("AWS::IoT::TopicRule", RuleName=rule.name)
        action = resource["Properties"]["TopicRulePayload"]["ErrorAction"]["CloudwatchLogs"]
        assert action["LogGroupName"] == ERROR_LOG_GROUP
        statements = _role_statements(synth, action["RoleArn"]["Fn::GetAtt"][0])
        logs = [s for s in statements if "logs:PutLogEvents" in s["Action"]]
        assert logs == [
            {
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [group_id, "Arn"]},
            }
        ]
    assert "iotstream/rule-errors" not in json.dumps(
        [
            r["Properties"]["TopicRulePayload"].get("ErrorAction", {}).get("Republish")
            for r in synth.resources("AWS::IoT::TopicRule").values()
        ]
    )


def test_alarms_watch_rules_functions_and_the_failed_prompt_queue(synth):
    """AWS/IoT RuleMessageThrottled per rule and the rule action metric Failure summed over ActionType
    (metrics_dimensions.html); Lambda Errors and Throttles per function and the prompt function's p99
    Duration; the failed-prompt queue's depth. Every alarm notifies the alarm topic."""
    alarms = _alarms(synth)
    rules = [rule.name for rule in load_rules(synth.config.rules_dir)]
    throttled = {
        a["Dimensions"][0]["Value"]
        for a in alarms
        if a.get("MetricName") == "RuleMessageThrottled" and a["Namespace"] == "AWS/IoT"
    }
    assert throttled == set(rules)
    failures = [q["Expression"] for a in alarms for q in a.get("Metrics", []) if "Expression" in q]
    for rule in rules:
        assert (
            f"SELECT SUM(Failure) FROM SCHEMA(\"AWS/IoT\", ActionType, RuleName) WHERE RuleName = '{rule}'"
            in failures
        )
    lambda_alarms = [
        (a["MetricName"], a.get("ExtendedStatistic") or a.get("Statistic"))
        for a in alarms
        if a.get("Namespace") == "AWS/Lambda"
    ]
    functions = load_functions(synth.config.functions_manifest)
    assert (
        lambda_alarms.count(("Errors", "Sum")) == lambda_alarms.count(("Throttles", "Sum")) == len(functions)
    )
    assert ("Duration", "p99") in lambda_alarms
    (queue,) = [a for a in alarms if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    assert (queue["Namespace"], queue["Threshold"]) == ("AWS/SQS", 1)
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    assert all(a["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
    assert all(a["TreatMissingData"] == "notBreaching" for a in alarms)


def test_alarm_email_is_subscribed_when_given(synth, tuned):
    """`-c alarmEmail=...` subscribes that address to the alarm topic; without it there is no subscription."""
    assert not synth.resources("AWS::SNS::Subscription")
    (subscription,) = tuned.resources("AWS::SNS::Subscription").values()
    assert (subscription["Properties"]["Protocol"], subscription["Properties"]["Endpoint"]) == (
        "email",
        "ops@example.com",
    )


def test_one_dashboard_shows_the_answer_metrics_the_prompt_function_emits(synth):
    """The dashboard graphs the Powertools metrics in the function's namespace and `service` dimension."""
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    (_, parts) = dashboard["Properties"]["DashboardBody"]["Fn::Join"]  # JSON text joined with references
    rendered = "".join(part for part in parts if isinstance(part, str))
    for metric in ("TimeToFirstToken", "TokensPerSecond", "MessagesPerAnswer", "PromptsRefused"):
        assert f'["iotstream","{metric}","service","iotstream-prompt"' in rendered
    assert '"TopicMatch"' in rendered and "SELECT SUM(Failure)" in rendered
