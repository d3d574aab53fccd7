"""The attach-policy function trusts only the IAM authorizer's view of the caller, never the body."""

from __future__ import annotations

from typing import Any

import pytest

from attach_policy.service import (
    Caller,
    NotACognitoCaller,
    PolicyChoice,
    attach_for_caller,
    caller_from_event,
)

IDENTITY = "us-east-1:6f1c0e1e-1111-4222-8333-944445555666"


def url_event(cognito: dict[str, Any] | None, role: str = "iotstream-auth", body: str = "") -> dict[str, Any]:
    """A Lambda function-URL event with AWS_IAM auth (requestContext.authorizer.iam)."""
    return {
        "version": "2.0",
        "body": body,
        "requestContext": {
            "authorizer": {
                "iam": {
                    "accessKey": "ASIAEXAMPLE",
                    "accountId": "000000000000",
                    "cognitoIdentity": cognito,
                    "userArn": f"arn:aws:sts::000000000000:assumed-role/{role}/CognitoIdentityCredentials",
                }
            }
        },
    }


class RecordingIot:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def attach_policy(self, *, policyName: str, target: str) -> Any:
        self.calls.append((policyName, target))
        return {}


CHOICE = PolicyChoice("iotstream-user", "iotstream-dashboard", frozenset({"iotstream-dashboard-role"}))


def test_identity_comes_from_the_signed_request_not_the_body() -> None:
    """Function URLs with AWS_IAM put the Cognito identity in requestContext.authorizer.iam.cognitoIdentity."""
    cognito = {"amr": ["authenticated"], "identityId": IDENTITY, "identityPoolId": "us-east-1:pool"}
    event = url_event(cognito, body='{"identityId": "us-east-1:someone-else"}')
    caller = caller_from_event(event)
    assert caller == Caller(IDENTITY, "us-east-1:pool", "iotstream-auth")
    iot = RecordingIot()
    assert attach_for_caller(iot, caller, CHOICE) == "iotstream-user"
    assert iot.calls == [("iotstream-user", IDENTITY)]


def test_dashboard_role_gets_the_dashboard_policy() -> None:
    """Identities in the dashboard group assume the dashboard role and get the read-only policy."""
    cognito = {"amr": ["authenticated"], "identityId": IDENTITY, "identityPoolId": "p"}
    caller = caller_from_event(url_event(cognito, role="iotstream-dashboard-role"))
    assert CHOICE.for_caller(caller) == "iotstream-dashboard"


@pytest.mark.parametrize(
    "cognito",
    [None, {"amr": ["unauthenticated"], "identityId": IDENTITY}, {"amr": ["authenticated"]}],
)
def test_non_cognito_or_unauthenticated_callers_are_refused(cognito: dict[str, Any] | None) -> None:
    """IoT policies are attached to authenticated identities only (cog-iot-policies.html)."""
    with pytest.raises(NotACognitoCaller):
        caller_from_event(url_event(cognito))


def test_identities_of_another_pool_are_refused() -> None:
    """The function serves one identity pool (IDENTITY_POOL_ID, set by CDK): another pool's identity that
    can sign for the URL gets no policy."""
    cognito = {"amr": ["authenticated"], "identityId": IDENTITY, "identityPoolId": "us-east-1:other-pool"}
    with pytest.raises(NotACognitoCaller):
        caller_from_event(url_event(cognito), identity_pool_id="us-east-1:our-pool")
    assert caller_from_event(
        url_event({**cognito, "identityPoolId": "us-east-1:our-pool"}), "us-east-1:our-pool"
    )
