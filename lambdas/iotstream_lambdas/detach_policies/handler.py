"""CloudFormation custom resource handler (service token = this function): on Delete, detach every target of
the policies in `PolicyNames`; always answer CloudFormation, or it waits for an hour.

Request and response: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from iotstream_lambdas.detach_policies.service import PHYSICAL_ID, detach_all, policies_to_detach

if TYPE_CHECKING:
    from mypy_boto3_iot import IoTClient

SERVICE = "iotstream-detach-policies"
"""Powertools `service` (log key); lambdas/iotstream_lambdas/functions.json sets the same name."""
logger = Logger(service=SERVICE)


@cache
def iot() -> IoTClient:
    """The IoT client for this execution environment (built once, at cold start)."""
    return boto3.client("iot")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one CloudFormation custom-resource request."""
    return respond(event, context, iot=iot())


def respond(event: Mapping[str, Any], context: LambdaContext, *, iot: IoTClient) -> dict[str, Any]:
    """Do the work, then PUT SUCCESS or FAILED (with the reason) to the request's ResponseURL."""
    response: dict[str, Any] = {
        "Status": "SUCCESS",
        "RequestId": event.get("RequestId"),
        "StackId": event.get("StackId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_ID,
    }
    try:
        done = detach_all(iot, policies_to_detach(event), context.get_remaining_time_in_millis)
        logger.info("detached", extra={"pairs": len(done.pairs), "missing": done.missing_policies})
    except Exception as error:  # boundary: CloudFormation must hear back whatever went wrong
        logger.exception("detaching failed")
        response |= {"Status": "FAILED", "Reason": f"{type(error).__name__}: {error}"[:1000]}
    body = json.dumps(response).encode()
    request = urllib.request.Request(
        str(event["ResponseURL"]), data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        logger.info("answered CloudFormation", extra={"status": answer.status})
    return response
