"""Lambda handler behind a function URL with AWS_IAM auth: attaches the IoT policy to the caller."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

from attach_policy.service import NotACognitoCaller, PolicyChoice, attach_for_caller, caller_from_event

_iot = boto3.client("iot")
_choice = PolicyChoice(
    user_policy=os.environ.get("IOT_USER_POLICY", "iotstream-user"),
    dashboard_policy=os.environ.get("IOT_DASHBOARD_POLICY", "iotstream-dashboard"),
    dashboard_roles=frozenset(filter(None, os.environ.get("DASHBOARD_ROLE_NAMES", "").split(","))),
)


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Function-URL entry point: 200 with the attached policy, 403 for a non-Cognito caller."""
    try:
        caller = caller_from_event(event, os.environ.get("IDENTITY_POOL_ID") or None)
    except NotACognitoCaller as error:
        return _response(403, {"message": str(error)})
    policy = attach_for_caller(_iot, caller, _choice)
    return _response(200, {"identityId": caller.identity_id, "policyName": policy, "attached": True})
