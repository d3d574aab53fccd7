"""The attach-policy service: identity from the ID token (GetId), policy from the IAM-verified role and the
token's groups, never from anything else in the request.

Function URLs give no Cognito identity ("Lambda sets this to null or excludes this from the JSON",
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html); GetId validates the token
(https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iotstream_lambdas.attach_policy.service import (
    AttachRequest,
    AttachService,
    AttachSettings,
    BadRequest,
    ConfigurationError,
    Forbidden,
    Unavailable,
    token_groups,
)

POOL = "us-east-1:00000000-0000-4000-8000-000000000001"
PROVIDER = "cognito-idp.us-east-1.amazonaws.com/us-east-1_local"
IDENTITY = "us-east-1:6f1c0e1e-1111-4222-8333-944445555666"
SETTINGS = AttachSettings(POOL, PROVIDER, "auth-role", "dash-role")


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT-shaped token (signature checks are GetId's job, faked here)."""
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")  # noqa: E731
    return f"{encode({'alg': 'RS256'})}.{encode(claims)}.c2ln"


def arn(role: str) -> str:
    return f"arn:aws:sts::123456789012:assumed-role/{role}/CognitoIdentityCredentials"


def body(token: str) -> str:
    return json.dumps({"idToken": token})


class FakeIdentity:
    """cognito-identity: GetId answers IDENTITY for tokens it knows, else the given error code."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def get_id(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "refused"}}, "GetId")
        return {"IdentityId": IDENTITY}


class FakeIot:
    def __init__(self) -> None:
        self.attached: list[tuple[str, str]] = []

    def attach_policy(self, *, policyName: str, target: str) -> dict[str, Any]:
        self.attached.append((policyName, target))
        return {}


def service(error: str | None = None) -> tuple[AttachService, FakeIdentity, FakeIot]:
    identity, iot = FakeIdentity(error), FakeIot()
    return AttachService(SETTINGS, identity=identity, iot=iot), identity, iot  # type: ignore[arg-type]


def test_the_identity_comes_from_get_id_with_the_token_and_nothing_in_the_body_overrides_it() -> None:
    """GetId(IdentityPoolId, Logins={provider: token}) names the identity; an identityId or policyName in the
    body is ignored."""
    svc, identity, iot = service()
    token = jwt({"sub": "u1"})
    extra = json.dumps(
        {"idToken": token, "identityId": "us-east-1:victim", "policyName": "iotstream-dashboard"}
    )
    attached = svc.attach(AttachRequest(arn("auth-role"), extra))
    assert (attached.identity_id, attached.policy_name) == (IDENTITY, "iotstream-user")
    assert identity.calls == [{"IdentityPoolId": POOL, "Logins": {PROVIDER: token}}]
    assert iot.attached == [("iotstream-user", IDENTITY)]


def test_the_dashboard_policy_needs_the_dashboard_role_and_the_dashboard_group() -> None:
    """Role from the IAM-verified userArn AND `cognito:groups` of the token: neither alone is enough."""
    svc, _, _ = service()
    in_group, not_in_group = jwt({"cognito:groups": ["dashboard"]}), jwt({"sub": "u"})
    assert svc.attach(AttachRequest(arn("dash-role"), body(in_group))).policy_name == "iotstream-dashboard"
    assert svc.attach(AttachRequest(arn("dash-role"), body(not_in_group))).policy_name == "iotstream-user"
    assert svc.attach(AttachRequest(arn("auth-role"), body(in_group))).policy_name == "iotstream-user"


@pytest.mark.parametrize(
    "caller",
    [
        "arn:aws:iam::123456789012:user/admin",  # an IAM user
        "arn:aws:sts::123456789012:assumed-role/some-other-role/session",  # a role of another pool or app
        "",  # no authorizer block at all
    ],
)
def test_callers_that_are_not_this_pools_roles_are_refused(caller: str) -> None:
    """Only the identity pool's two roles may attach; nothing is looked up or attached for anyone else."""
    svc, identity, iot = service()
    response = svc.respond(AttachRequest(caller, body(jwt({}))))
    assert response["statusCode"] == 403 and "message" in json.loads(response["body"])
    assert identity.calls == [] and iot.attached == []


@pytest.mark.parametrize("raw", [None, "", "not json", "[]", '{"idToken": ""}', '{"idToken": 5}', "{}"])
def test_a_missing_or_malformed_body_is_400(raw: str | None) -> None:
    """docs/security.md, "The attach-policy front door": 400 {"message"} for a missing or malformed body, before any Cognito call."""
    svc, identity, _ = service()
    with pytest.raises(BadRequest):
        svc.attach(AttachRequest(arn("auth-role"), raw))
    assert identity.calls == []
    assert svc.respond(AttachRequest(arn("auth-role"), raw))["statusCode"] == 400


@pytest.mark.parametrize(
    ("code", "refusal", "status"),
    [
        ("NotAuthorizedException", Forbidden, 403),  # bad signature, expired, another pool's token
        ("InvalidParameterException", Forbidden, 403),
        ("TooManyRequestsException", Unavailable, 503),
        ("InternalErrorException", Unavailable, 503),
    ],
)
def test_cognito_refusals_and_throttling(code: str, refusal: type[Exception], status: int) -> None:
    """GetId's error codes (API_GetId.html, Errors): a refused token is 403, throttling 503; nothing attached."""
    svc, _, iot = service(code)
    with pytest.raises(refusal):
        svc.attach(AttachRequest(arn("auth-role"), body(jwt({}))))
    assert svc.respond(AttachRequest(arn("auth-role"), body(jwt({}))))["statusCode"] == status
    assert iot.attached == []


def test_other_cognito_errors_propagate() -> None:
    """ResourceNotFoundException (our own pool missing) is a deployment bug: it fails the invocation."""
    svc, _, _ = service("ResourceNotFoundException")
    with pytest.raises(ClientError):
        svc.respond(AttachRequest(arn("auth-role"), body(jwt({}))))


def test_success_response_is_the_documented_json() -> None:
    """docs/security.md, "The attach-policy front door": 200 {"identityId", "policyName", "attached": true}, as a function-URL response payload."""
    svc, _, _ = service()
    response = svc.respond(AttachRequest(arn("auth-role"), body(jwt({}))))
    assert response["statusCode"] == 200 and response["headers"] == {"content-type": "application/json"}
    assert json.loads(response["body"]) == {
        "identityId": IDENTITY,
        "policyName": "iotstream-user",
        "attached": True,
    }


def test_token_groups_tolerates_anything() -> None:
    assert token_groups(jwt({"cognito:groups": ["a", 3, "b"]})) == {"a", "b"}
    assert token_groups("garbage") == frozenset() and token_groups("a.!!!.c") == frozenset()
    assert token_groups(jwt({"cognito:groups": "dashboard"})) == frozenset()


def test_settings_need_the_pool_provider_and_roles() -> None:
    env = {
        "IDENTITY_POOL_ID": POOL,
        "USER_POOL_PROVIDER_NAME": PROVIDER,
        "AUTHENTICATED_ROLE_NAME": "a",
        "DASHBOARD_ROLE_NAME": "d",
        "IOT_USER_POLICY": "u",
    }
    settings = AttachSettings.from_env(env)
    assert (settings.user_policy, settings.dashboard_policy, settings.dashboard_group) == (
        "u",
        "iotstream-dashboard",
        "dashboard",
    )
    with pytest.raises(ConfigurationError, match="USER_POOL_PROVIDER_NAME"):
        AttachSettings.from_env({**env, "USER_POOL_PROVIDER_NAME": ""})
