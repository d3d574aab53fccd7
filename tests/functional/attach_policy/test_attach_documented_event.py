"""The attach-policy handler, run by localcore's Lambda runtime exactly as deployed, fed AWS's documented
function-URL event (tests/fixtures/aws_events/lambda-url-iam-request.json, from "Request payload format" on
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html): `cognitoIdentity` is null there ("Lambda
sets this to null or excludes this from the JSON"), and the attach must still work, from the ID token in the
body (GetId, https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from clients.config import ClientConfig
from clients.session import authenticate, identity_id_for
from localcore.testing import RunningLocalcore
from tests.support.aws_events import sample
from tests.support.session_support import PASSWORD, Users, stack


@pytest.fixture(scope="module")
def core() -> Iterator[RunningLocalcore]:
    yield from stack()


@pytest.fixture(scope="module")
def users(core: RunningLocalcore) -> Users:
    return Users(core, ClientConfig.from_localcore(core.endpoints))


def documented_event(core: RunningLocalcore, role: str, body: str, cognito: str) -> dict[str, Any]:
    """AWS's sample with only what identifies our caller changed: the assumed-role ARN of an identity-pool
    role (what IAM reports for Cognito credentials) and the body. `cognito` is "null" or "absent"."""
    event = sample("lambda-url-iam-request.json")
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["cognitoIdentity"] is None
    if cognito == "absent":
        del iam["cognitoIdentity"]
    iam["userArn"] = f"arn:aws:sts::{core.core.config.account}:assumed-role/{role}/CognitoIdentityCredentials"
    event["body"] = body
    return event


def invoke(core: RunningLocalcore, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    runtime = core.core.runtime
    assert runtime is not None
    result = core.thread.run(runtime.invoke("attach_policy", event))
    assert result.ok, result.payload
    return result.payload["statusCode"], json.loads(result.payload["body"])


@pytest.mark.parametrize("cognito", ["null", "absent"])
def test_the_documented_event_attaches_the_policy_to_the_tokens_identity(
    core: RunningLocalcore, users: Users, cognito: str
) -> None:
    """No Cognito identity in the event, the ID token in the body: 200, and `iotstream-user` is attached to the
    identity GetId gives for that token (the same one the client's own GetId returns)."""
    config = users.config
    tokens = authenticate(config, users.register("documented"), PASSWORD)
    identity_id = identity_id_for(config, tokens)
    event = documented_event(
        core, "iotstream-authenticated", json.dumps({"idToken": tokens.id_token}), cognito
    )
    status, reply = invoke(core, event)
    assert (status, reply) == (
        200,
        {"identityId": identity_id, "policyName": "iotstream-user", "attached": True},
    )
    attached = core.client("iot").list_attached_policies(target=identity_id)["policies"]
    assert [p["policyName"] for p in attached] == ["iotstream-user"]


def test_the_documented_event_of_a_dashboard_member_gets_the_dashboard_policy(
    core: RunningLocalcore, users: Users
) -> None:
    """Dashboard role (userArn) and `cognito:groups` contains `dashboard` (the token): `iotstream-dashboard`."""
    tokens = authenticate(users.config, users.register("board", dashboard=True), PASSWORD)
    event = documented_event(core, "iotstream-dashboard", json.dumps({"idToken": tokens.id_token}), "null")
    status, reply = invoke(core, event)
    assert (status, reply["policyName"]) == (200, "iotstream-dashboard")


def test_the_documented_event_as_is_is_refused_with_403(core: RunningLocalcore) -> None:
    """The sample unchanged: an IAM user (`arn:aws:iam::...:user/example-user`) and a body that is no JSON —
    the caller check comes first, so 403 and nothing is attached."""
    status, reply = invoke(core, sample("lambda-url-iam-request.json"))
    assert status == 403 and "identity pool" in reply["message"]


def test_a_forged_token_is_403_and_a_missing_token_400(core: RunningLocalcore, users: Users) -> None:
    """GetId refuses a tampered token (NotAuthorizedException → 403); no `idToken` → 400."""
    tokens = authenticate(users.config, users.register("forger"), PASSWORD)
    header, claims, signature = tokens.id_token.split(".")
    forged = f"{header}.{claims}.{signature[::-1]}"
    status, reply = invoke(
        core, documented_event(core, "iotstream-authenticated", json.dumps({"idToken": forged}), "null")
    )
    assert status == 403 and "NotAuthorizedException" in reply["message"]
    status, _ = invoke(core, documented_event(core, "iotstream-authenticated", "{}", "null"))
    assert status == 400
