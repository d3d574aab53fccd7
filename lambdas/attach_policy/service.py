"""Pure logic of the attach-policy function: who is calling, which policy they get, attach it once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

ASSUMED_ROLE = re.compile(r":assumed-role/(?P<role>[^/]+)/")


class IotAttachClient(Protocol):
    """The part of boto3's `iot` client this service uses."""

    def attach_policy(self, *, policyName: str, target: str) -> Any: ...


class NotACognitoCaller(Exception):
    """The signed request did not come from a Cognito identity-pool identity."""


@dataclass(frozen=True)
class Caller:
    """The caller as the function URL's IAM authorizer saw it (never taken from the body)."""

    identity_id: str
    identity_pool_id: str
    role_name: str | None


@dataclass(frozen=True)
class PolicyChoice:
    """Which IoT policy each kind of caller gets."""

    user_policy: str
    dashboard_policy: str
    dashboard_roles: frozenset[str]

    def for_caller(self, caller: Caller) -> str:
        return self.dashboard_policy if caller.role_name in self.dashboard_roles else self.user_policy


def caller_from_event(event: Mapping[str, Any], identity_pool_id: str | None = None) -> Caller:
    """Read the Cognito identity from `requestContext.authorizer.iam` of a function-URL event; with
    `identity_pool_id`, identities of any other pool are refused."""
    iam = event.get("requestContext", {}).get("authorizer", {}).get("iam") or {}
    cognito = iam.get("cognitoIdentity") or {}
    identity_id = cognito.get("identityId")
    if not isinstance(identity_id, str) or not identity_id:
        raise NotACognitoCaller("the request was not signed with Cognito identity-pool credentials")
    if "authenticated" not in (cognito.get("amr") or []):
        raise NotACognitoCaller("only authenticated identities get an IoT policy")
    pool = str(cognito.get("identityPoolId", ""))
    if identity_pool_id and pool != identity_pool_id:
        raise NotACognitoCaller(f"identities of pool {pool!r} get no policy here")
    match = ASSUMED_ROLE.search(str(iam.get("userArn", "")))
    return Caller(identity_id, pool, match["role"] if match else None)


def attach_for_caller(iot: IotAttachClient, caller: Caller, choice: PolicyChoice) -> str:
    """Attach the caller's policy to the caller's own identity; AttachPolicy is idempotent."""
    policy = choice.for_caller(caller)
    iot.attach_policy(policyName=policy, target=caller.identity_id)
    return policy
