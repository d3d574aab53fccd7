"""Prompt Lambda, invoked asynchronously by the IoT rule `iotstream_prompt`
(`SELECT encode(*, 'base64') AS payload_base64, topic(2) AS identity_id FROM 'chat/+/prompt'`). Thin: all logic is in `iotstream_lambdas.streaming.service`.

Environment: see `iotstream_lambdas.streaming.config` (STATE_TABLE, LLM_PROVIDER, ...). Clients are built once per
execution environment (cold start) and reused.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from iotstream_lambdas.prompt.answer_metrics import DEFAULT_NAMESPACE, record_answer_metrics
from iotstream_lambdas.streaming.config import service_from_env
from iotstream_lambdas.streaming.service import StreamingService

SERVICE = "iotstream-prompt"
"""Powertools `service` (log key and metric dimension); lambdas/iotstream_lambdas/functions.json sets the same name."""
logger = Logger(service=SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE), service=SERVICE
)


@cache
def service() -> StreamingService:
    """The service for this execution environment (its clients are built once, at cold start)."""
    return service_from_env(logger=logger)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Stream the answer to one prompt; never raises for a bad prompt (it is answered with an error event)."""
    outcome = service().handle_prompt(event, context.get_remaining_time_in_millis)
    record_answer_metrics(metrics, outcome)
    result = asdict(outcome)
    result.pop("text")
    result["metrics"] = dict(outcome.metrics)
    return result
