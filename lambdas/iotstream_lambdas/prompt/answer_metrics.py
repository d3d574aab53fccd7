"""CloudWatch metrics of each answer, emitted with Powertools for AWS Lambda (embedded metric format).

Powertools writes one EMF JSON line to stdout when the handler returns; CloudWatch turns it into metrics on
AWS (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format.html).
Locally the line lands in the function's log like any other output: nothing to configure. Namespace and
`service` dimension come from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME (lambdas/iotstream_lambdas/functions.json),
which the CDK dashboard reads too.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from iotstream_lambdas.streaming.service import PromptOutcome

DEFAULT_NAMESPACE = "iotstream"
"""Used when POWERTOOLS_METRICS_NAMESPACE is unset (Powertools refuses to flush metrics without one)."""


def record_answer_metrics(metrics: Metrics, outcome: PromptOutcome) -> None:
    """TimeToFirstToken (ms), TokensPerSecond and MessagesPerAnswer for a streamed answer; PromptsRefused
    for a prompt answered with an error event before any streaming (invalid, over a limit, expired)."""
    if outcome.status == "rejected":
        metrics.add_metric(name="PromptsRefused", unit=MetricUnit.Count, value=1)
        return
    if outcome.status != "streamed":
        return
    values = outcome.metrics
    if "ttft_ms" in values:
        metrics.add_metric(name="TimeToFirstToken", unit=MetricUnit.Milliseconds, value=values["ttft_ms"])
        generating_s = (values.get("duration_ms", 0) - values["ttft_ms"]) / 1000
        tokens = values.get("output_tokens") or values.get("tokens", 0)
        if generating_s > 0 and tokens:
            metrics.add_metric(
                name="TokensPerSecond", unit=MetricUnit.CountPerSecond, value=tokens / generating_s
            )
    if "messages" in values:
        metrics.add_metric(name="MessagesPerAnswer", unit=MetricUnit.Count, value=values["messages"])
