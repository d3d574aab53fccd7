"""Alarms and one CloudWatch dashboard: IoT rule failures, Lambda errors/throttles/duration, the failed-prompt
queue, and the prompt function's own answer metrics.

Metric names are AWS's (https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html):
`RuleMessageThrottled` and `TopicMatch` (dimension `RuleName`), and the rule action metric `Failure`
(dimensions `RuleName` and `ActionType`). AWS does not list the `ActionType` values, so the failure alarm is a
CloudWatch Metrics Insights query that sums `Failure` over every action type of the rule (alarms accept a
single Metrics Insights query: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-alarms.html).

Every alarm notifies one SNS topic (output `AlarmTopicArn`); `-c alarmEmail=you@example.com` subscribes an
address. Missing data is "not breaching": an idle stack is a healthy one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.parts.naming import pascal

PERIOD = Duration.minutes(5)
SLOW_FRACTION = 0.8
"""The prompt function's p99 duration alarm fires at this fraction of its timeout (answers cut by `timeout`)."""
ANSWER_METRICS = ("TimeToFirstToken", "TokensPerSecond", "MessagesPerAnswer", "PromptsRefused")
"""Emitted by the prompt function with Powertools (EMF), see `lambdas/iotstream_lambdas/prompt/answer_metrics.py`."""


def rule_failures(rule: str) -> cloudwatch.MathExpression:
    """`Failure` of every action of `rule`, whatever its `ActionType` (a Metrics Insights query)."""
    return cloudwatch.MathExpression(
        expression=(
            f"SELECT SUM(Failure) FROM SCHEMA(\"AWS/IoT\", ActionType, RuleName) WHERE RuleName = '{rule}'"
        ),
        using_metrics={},
        period=PERIOD,
        label=f"{rule} action failures",
    )


def rule_metric(name: str, rule: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/IoT",
        metric_name=name,
        dimensions_map={"RuleName": rule},
        statistic="Sum",
        period=PERIOD,
    )


class Monitoring(Construct):
    """The alarm topic, the alarms and the dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rule_names: Sequence[str],
        functions: Mapping[str, lambda_.Function],
        prompt: lambda_.Function,
        prompt_timeout: Duration,
        failed_prompts: sqs.IQueue,
        metrics_namespace: str,
        metrics_service: str,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="iotstream alarms",
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
            enforce_ssl=True,
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        for rule in rule_names:
            self._alarm(f"{pascal(rule)}Throttled", rule_metric("RuleMessageThrottled", rule), 1)
            self._alarm(f"{pascal(rule)}ActionFailures", rule_failures(rule), 1)
        for name, function in functions.items():
            self._alarm(f"{pascal(name)}Errors", function.metric_errors(period=PERIOD, statistic="Sum"), 1)
            self._alarm(
                f"{pascal(name)}Throttles", function.metric_throttles(period=PERIOD, statistic="Sum"), 1
            )
        slow_ms = prompt_timeout.to_milliseconds() * SLOW_FRACTION
        self._alarm("PromptSlow", prompt.metric_duration(period=PERIOD, statistic="p99"), slow_ms)
        failed = failed_prompts.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic="Maximum"
        )
        self._alarm("FailedPrompts", failed, 1)

        answer = {
            metric: cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=metric,
                dimensions_map={"service": metrics_service},
                statistic="Sum" if metric == "PromptsRefused" else "p50",
                period=PERIOD,
            )
            for metric in ANSWER_METRICS
        }
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard"
        )  # named by CloudFormation: output DashboardName
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Prompts reaching the rules (TopicMatch)",
                left=[rule_metric("TopicMatch", rule) for rule in rule_names],
            ),
            cloudwatch.GraphWidget(
                title="Rule action failures and throttles",
                left=[rule_failures(rule) for rule in rule_names],
                right=[rule_metric("RuleMessageThrottled", rule) for rule in rule_names],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors and throttles",
                left=[f.metric_errors(period=PERIOD, statistic="Sum") for f in functions.values()],
                right=[f.metric_throttles(period=PERIOD, statistic="Sum") for f in functions.values()],
            ),
            cloudwatch.GraphWidget(
                title="Prompt function duration (p50, p99) and failed prompts",
                left=[
                    prompt.metric_duration(period=PERIOD, statistic="p50"),
                    prompt.metric_duration(period=PERIOD, statistic="p99"),
                ],
                right=[failed],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Time to first token (ms, p50) and refused prompts (limits, invalid)",
                left=[answer["TimeToFirstToken"]],
                right=[answer["PromptsRefused"]],
            ),
            cloudwatch.GraphWidget(
                title="Tokens per second and MQTT messages per answer (p50)",
                left=[answer["TokensPerSecond"]],
                right=[answer["MessagesPerAnswer"]],
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms)),
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, threshold: float) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        self.alarms.append(alarm)
