"""Lambda handler behind the attach-policy function URL (AuthType AWS_IAM). Thin: logic in `service`.

Request: POST, SigV4-signed (service `lambda`) with identity-pool credentials, body `{"idToken": "<JWT>"}`.
Answers: 200 `{"identityId", "policyName", "attached": true}`, 400/403/503 `{"message"}` (docs/security.md).
Environment: see `AttachSettings.from_env`. Clients are built once per execution environment.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from iotstream_lambdas.attach_policy.service import AttachRequest, AttachService, AttachSettings

SERVICE = "iotstream-attach-policy"
"""Powertools `service` (log key); lambdas/iotstream_lambdas/functions.json sets the same name."""
logger = Logger(service=SERVICE)


@cache
def service() -> AttachService:
    """The service for this execution environment (its clients are built once, at cold start; GetId needs no
    IAM grant: it is a public API)."""
    return AttachService(
        AttachSettings.from_env(os.environ),
        identity=boto3.client("cognito-identity"),
        iot=boto3.client("iot"),
    )


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=LambdaFunctionUrlEvent)
def handler(event: LambdaFunctionUrlEvent, context: LambdaContext) -> dict[str, Any]:
    """Attach the caller's IoT policy to the identity its ID token names."""
    caller = event.request_context.authorizer.iam.user_arn
    response = service().respond(AttachRequest(caller_arn=caller, body=event.decoded_body))
    logger.info("attach-policy answered", extra={"status": response["statusCode"], "caller": caller})
    return response
