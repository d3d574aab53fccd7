"""The attach-policy front door: resolve the caller's identity from its ID token, attach its IoT policy.

Lambda function URLs do not fill `requestContext.authorizer.iam.cognitoIdentity` ("Lambda sets this to null
or excludes this from the JSON", https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html), so the
identity id cannot come from the event. The client sends its user pool ID token; `cognito-identity:GetId`
(https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html) validates it and returns the
identity id. The policy follows the IAM-verified caller role (`requestContext.authorizer.iam.userArn`) AND the
token's `cognito:groups`: the dashboard policy needs both. docs/security.md explains the design.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cognito_identity import CognitoIdentityClient
    from mypy_boto3_iot import IoTClient

# arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>, what IAM reports for role sessions.
ASSUMED_ROLE = re.compile(r"arn:[\w-]+:sts::\d{12}:assumed-role/(?P<role>[\w+=,.@-]+)/[^/]+")
# GetId errors that mean "this token does not name an identity of our pool".
REFUSED_TOKEN_CODES = frozenset(
    {"NotAuthorizedException", "InvalidParameterException", "ResourceConflictException"}
)
# GetId errors worth a retry by the client (throttling, Cognito trouble).
RETRYABLE_CODES = frozenset({"TooManyRequestsException", "LimitExceededException", "InternalErrorException"})
REQUIRED_ENVIRONMENT = (
    "IDENTITY_POOL_ID",
    "USER_POOL_PROVIDER_NAME",
    "AUTHENTICATED_ROLE_NAME",
    "DASHBOARD_ROLE_NAME",
)


class AttachRefused(Exception):
    """The request gets no policy; `status` is the HTTP status of the answer."""

    status = 403


class BadRequest(AttachRefused):
    status = 400


class Forbidden(AttachRefused):
    status = 403


class Unavailable(AttachRefused):
    status = 503


class ConfigurationError(Exception):
    """The function's environment is incomplete (a deployment bug, not a caller's)."""


@dataclass(frozen=True)
class AttachSettings:
    """Which pool, roles and policies this function serves (set by cdk/stack.py and localcore/app.py)."""

    identity_pool_id: str
    provider_name: str  # cognito-idp.<region>.amazonaws.com/<user pool id>, the `Logins` key
    authenticated_role: str
    dashboard_role: str
    user_policy: str = "iotstream-user"
    dashboard_policy: str = "iotstream-dashboard"
    dashboard_group: str = "dashboard"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AttachSettings:
        missing = [name for name in REQUIRED_ENVIRONMENT if not env.get(name)]
        if missing:
            raise ConfigurationError(f"the attach-policy function needs the environment variables {missing}")
        return cls(
            identity_pool_id=env["IDENTITY_POOL_ID"],
            provider_name=env["USER_POOL_PROVIDER_NAME"],
            authenticated_role=env["AUTHENTICATED_ROLE_NAME"],
            dashboard_role=env["DASHBOARD_ROLE_NAME"],
            user_policy=env.get("IOT_USER_POLICY") or cls.user_policy,
            dashboard_policy=env.get("IOT_DASHBOARD_POLICY") or cls.dashboard_policy,
            dashboard_group=env.get("DASHBOARD_GROUP") or cls.dashboard_group,
        )


@dataclass(frozen=True)
class AttachRequest:
    """What the function URL tells us: the IAM-verified caller and the request body (decoded)."""

    caller_arn: str
    body: str | None


@dataclass(frozen=True)
class Attached:
    identity_id: str
    policy_name: str

    def as_body(self) -> dict[str, Any]:
        return {"identityId": self.identity_id, "policyName": self.policy_name, "attached": True}


def caller_role(caller_arn: str) -> str:
    """The role name of an assumed-role ARN; anything else (IAM users, root, ...) is refused."""
    match = ASSUMED_ROLE.fullmatch(caller_arn)
    if match is None:
        raise Forbidden("the request must be signed with this identity pool's credentials")
    return match["role"]


def id_token_of(body: str | None) -> str:
    """`{"idToken": "<JWT>"}` -> the token; 400 for anything else."""
    try:
        document = json.loads(body or "")
    except ValueError:
        raise BadRequest('the body must be JSON: {"idToken": "<user pool ID token>"}') from None
    token = document.get("idToken") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        raise BadRequest('the body needs "idToken": the user pool ID token of the signed-in user')
    return token


def token_groups(token: str) -> frozenset[str]:
    """`cognito:groups` of a token Cognito has already accepted (GetId validated its signature)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return frozenset()
    groups = claims.get("cognito:groups") if isinstance(claims, dict) else None
    return frozenset(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else frozenset()


class AttachService:
    """Attach-policy logic over injected boto3 clients (`cognito-identity` and `iot`)."""

    def __init__(self, settings: AttachSettings, *, identity: CognitoIdentityClient, iot: IoTClient) -> None:
        self.settings = settings
        self.identity = identity
        self.iot = iot

    def attach(self, request: AttachRequest) -> Attached:
        """Check the caller's role, resolve the token's identity, attach the policy (AttachPolicy is
        idempotent); raises `AttachRefused` with the answer's status."""
        role = caller_role(request.caller_arn)
        if role not in (self.settings.authenticated_role, self.settings.dashboard_role):
            raise Forbidden(f"role {role!r} is not an authenticated role of this identity pool")
        token = id_token_of(request.body)
        identity_id = self.identity_id(token)
        policy = self.policy_for(role, token_groups(token))
        self.iot.attach_policy(policyName=policy, target=identity_id)
        return Attached(identity_id, policy)

    def identity_id(self, token: str) -> str:
        """GetId with the token as the login: Cognito validates it; the same user always gets the same id."""
        settings = self.settings
        try:
            response = self.identity.get_id(
                IdentityPoolId=settings.identity_pool_id, Logins={settings.provider_name: token}
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in REFUSED_TOKEN_CODES:
                raise Forbidden(f"Cognito refused the ID token ({code})") from None
            if code in RETRYABLE_CODES:
                raise Unavailable(f"Cognito is busy ({code}); retry shortly") from None
            raise
        return response["IdentityId"]

    def policy_for(self, role: str, groups: frozenset[str]) -> str:
        """The dashboard policy only for the dashboard role with a token that is in the dashboard group."""
        settings = self.settings
        if role == settings.dashboard_role and settings.dashboard_group in groups:
            return settings.dashboard_policy
        return settings.user_policy

    def respond(self, request: AttachRequest) -> dict[str, Any]:
        """The function-URL response: 200 with the attachment, or the refusal's status and message."""
        try:
            return url_response(200, self.attach(request).as_body())
        except AttachRefused as refused:
            return url_response(refused.status, {"message": str(refused)})


def url_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """A function-URL response payload (urls-invocation.html, "Response payload format")."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
