"""Cancel Lambda, invoked by the IoT rule `iotstream_cancel`
(`SELECT rid, topic(2) AS identity_id FROM 'chat/+/cancel'`; the client publishes `{"rid": "<uuid>"}`).
Writes the cancel flag the streaming loop polls. Environment: STATE_TABLE.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iotstream_lambdas.streaming.cancel import cancel_request
from iotstream_lambdas.streaming.errors import StreamingError
from iotstream_lambdas.streaming.state import StateStore

SERVICE = "iotstream-cancel"
"""Powertools `service` (log key); lambdas/iotstream_lambdas/functions.json sets the same name."""
logger = Logger(service=SERVICE)


@cache
def store() -> StateStore:
    """The state store for this execution environment (its client is built once, at cold start)."""
    table = os.environ.get("STATE_TABLE")
    if not table:
        raise StreamingError("bad_config", "environment variable STATE_TABLE is required")
    return StateStore(client=boto3.client("dynamodb"), table=table)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Flag the stream named by `event["rid"]` of `event["identity_id"]` as cancelled."""
    return {"cancelled": cancel_request(store(), event, logger)}
