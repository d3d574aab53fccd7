"""IoT topic rules from `iot_rules/`, their Lambda invoke permissions, the roles of their republish and
CloudWatch Logs actions, and those actions' log groups."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.parts.naming import pascal
from clients.deployment import DeploySourceError
from iot_rules.definitions import RuleDefinition

SUBSTITUTION = re.compile(r"\$\{[^}]*\}")


def topic_arn_pattern(stack: Stack, topic: str) -> str:
    """The topic ARN a republish `topic` may publish to: `$$` is a literal `$`, `${...}` templates become `*`."""
    pattern = SUBSTITUTION.sub("*", topic).replace("$$", "$")
    return stack.format_arn(
        service="iot", resource="topic", resource_name=pattern, arn_format=ArnFormat.SLASH_RESOURCE_NAME
    )


def rule_arn(stack: Stack, name: str) -> str:
    """`arn:aws:iot:<region>:<account>:rule/<name>`, known before the rule exists (no dependency cycle)."""
    return stack.format_arn(service="iot", resource="rule", resource_name=name)


class TopicRules(Construct):
    """One `AWS::IoT::TopicRule` per definition (payload from `to_topic_rule_payload`).

    Lambda actions: the function gets a resource policy letting `iot.amazonaws.com` invoke it, scoped to
    that rule's ARN and this account. Republish and CloudWatch Logs actions without a `roleArn`: the rule
    gets one role IoT assumes, allowed `iot:Publish` on exactly those topics
    (https://docs.aws.amazon.com/iot/latest/developerguide/republish-rule-action.html) and
    `logs:CreateLogStream`, `logs:DescribeLogStreams`, `logs:PutLogEvents` on exactly those log groups
    (https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html). Each log group
    a rule names is created here (a month's retention), so the role needs no `logs:CreateLogGroup`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rules: list[RuleDefinition],
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: dict[str, iot.CfnTopicRule] = {}
        self.action_roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for rule in rules:
            self.rules[rule.name] = self._rule(rule, functions)

    def _rule(self, rule: RuleDefinition, functions: Mapping[str, lambda_.IFunction]) -> iot.CfnTopicRule:
        def function_arn(name: str) -> str:
            if name not in functions:
                raise DeploySourceError(
                    f"rule {rule.name}", f"unknown function {name!r}; known: {sorted(functions)}"
                )
            return functions[name].function_arn

        payload = rule.to_topic_rule_payload(function_arn)
        self._add_action_role(rule, payload)
        topic_rule = iot.CfnTopicRule(
            self, pascal(rule.name), rule_name=rule.name, topic_rule_payload=payload
        )
        stack = Stack.of(self)
        for name in dict.fromkeys(rule.lambda_functions()):
            functions[name].add_permission(
                f"Invoke{pascal(rule.name)}",
                principal=iam.ServicePrincipal("iot.amazonaws.com"),
                action="lambda:InvokeFunction",
                source_arn=topic_rule.attr_arn,
                source_account=stack.account,
            )
        return topic_rule

    def _log_group(self, name: str) -> logs.LogGroup:
        if name not in self.log_groups:
            self.log_groups[name] = logs.LogGroup(
                self,
                f"LogGroup{pascal(name)}",
                log_group_name=name,
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=RemovalPolicy.DESTROY,
            )
        return self.log_groups[name]

    def _add_action_role(self, rule: RuleDefinition, payload: dict[str, Any]) -> None:
        actions: list[dict[str, Any]] = [*payload["actions"]]
        if "errorAction" in payload:
            actions.append(payload["errorAction"])
        unroled = [
            (kind, params)
            for action in actions
            for kind, params in action.items()
            if kind in ("republish", "cloudwatchLogs") and "roleArn" not in params
        ]
        if not unroled:
            return
        stack = Stack.of(self)
        role = iam.Role(
            self,
            f"{pascal(rule.name)}ActionRole",
            assumed_by=iam.ServicePrincipal(
                "iot.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": rule_arn(stack, rule.name)},
                },
            ),
            description=f"Lets IoT rule {rule.name} run its republish and CloudWatch Logs actions",
        )
        topics = sorted({topic_arn_pattern(stack, p["topic"]) for kind, p in unroled if kind == "republish"})
        if topics:
            role.add_to_policy(iam.PolicyStatement(actions=["iot:Publish"], resources=topics))
        groups = sorted({p["logGroupName"] for kind, p in unroled if kind == "cloudwatchLogs"})
        if groups:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    resources=[self._log_group(name).log_group_arn for name in groups],
                )
            )
        for _, params in unroled:
            params["roleArn"] = role.role_arn
        self.action_roles[rule.name] = role
