"""Evaluate IoT policy documents for one request, with AWS IoT Core's semantics.

IAM evaluation logic (`iot-policies.html`): everything is implicitly denied, an explicit Allow in any
attached policy grants, an explicit Deny in any of them wins. Authenticated Cognito identities get the
intersection of the identity pool role's IAM policy and the IoT policies attached to the identity
(`cog-iot-policies.html`); unauthenticated identities get the role alone (plain `evaluate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from iot_policies.document import PolicyDocument

COGNITO_SUB = "cognito-identity.amazonaws.com:sub"
COGNITO_AUD = "cognito-identity.amazonaws.com:aud"
CLIENT_ID = "iot:ClientId"
THING_NAME = "iot:Connection.Thing.ThingName"
SOURCE_IP = "aws:SourceIp"
CONNECT_ATTRIBUTES = "iot:ConnectAttributes"

NO_MATCHING_ALLOW = "no matching allow"
NO_IOT_POLICY = "no IoT policy is attached to this authenticated Cognito identity (AttachPolicy)"


@dataclass(frozen=True)
class Decision:
    """The outcome of one authorization check, always with the reason that decided it."""

    allowed: bool
    action: str
    resource: str
    reason: str  # the deciding statement ("denied by policy 'user' Statement[2]") or "no matching allow"
    policy: str | None = None
    statement: int | None = None
    sid: str | None = None


@dataclass(frozen=True)
class RequestContext:
    """What the request knows: policy-variable / condition-key values (e.g. "iot:ClientId",
    "cognito-identity.amazonaws.com:sub"), the client's IP, and multi-valued keys such as
    "iot:ConnectAttributes". A key that is absent is unresolved (null)."""

    variables: Mapping[str, str] = field(default_factory=dict)
    source_ip: str | None = None
    multi_values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    lookup: Mapping[str, str] = field(init=False, repr=False, compare=False)
    multi: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup = {key.lower(): value for key, value in self.variables.items()}
        if self.source_ip is not None:
            lookup.setdefault(SOURCE_IP.lower(), self.source_ip)
        object.__setattr__(self, "lookup", lookup)
        object.__setattr__(self, "multi", {key.lower(): tuple(v) for key, v in self.multi_values.items()})

    @classmethod
    def for_identity(
        cls,
        identity_id: str | None = None,
        client_id: str | None = None,
        source_ip: str | None = None,
        **variables: str,
    ) -> RequestContext:
        """Context for a Cognito identity connected with `client_id` (either may be None)."""
        values = dict(variables)
        if identity_id is not None:
            values[COGNITO_SUB] = identity_id
        if client_id is not None:
            values[CLIENT_ID] = client_id
        return cls(variables=values, source_ip=source_ip)


def evaluate(
    policies: Sequence[PolicyDocument], action: str, resource_arn: str, context: RequestContext
) -> Decision:
    """Explicit Deny in any policy wins, else any Allow, else deny with "no matching allow"."""
    lowered = action.lower()
    lookup = context.lookup
    multi = context.multi
    for policy in policies:
        for statement in policy.candidates(lowered)[0]:
            if statement.covers(resource_arn, lookup, multi):
                return Decision(
                    False,
                    action,
                    resource_arn,
                    f"denied by policy '{policy.name}' {statement.label}",
                    policy.name,
                    statement.index,
                    statement.sid,
                )
    for policy in policies:
        for statement in policy.candidates(lowered)[1]:
            if statement.covers(resource_arn, lookup, multi):
                return Decision(
                    True,
                    action,
                    resource_arn,
                    f"allowed by policy '{policy.name}' {statement.label}",
                    policy.name,
                    statement.index,
                    statement.sid,
                )
    return Decision(False, action, resource_arn, NO_MATCHING_ALLOW)


def evaluate_authenticated(
    iot_policies: Sequence[PolicyDocument],
    role_policies: Sequence[PolicyDocument],
    action: str,
    resource_arn: str,
    context: RequestContext,
) -> Decision:
    """Authenticated Cognito identity: the role's IAM policy AND the attached IoT policies must allow."""
    if not iot_policies:
        return Decision(False, action, resource_arn, NO_IOT_POLICY)
    role = evaluate(role_policies, action, resource_arn, context)
    iot = evaluate(iot_policies, action, resource_arn, context)
    if role.allowed and iot.allowed:
        reason = f"{iot.reason}, and by the role's {role.reason.removeprefix('allowed by ')}"
        return Decision(True, action, resource_arn, reason, iot.policy, iot.statement, iot.sid)
    # Report an explicit Deny before a mere absence of Allow; the IoT policy before the role.
    candidates = [(iot, "IoT policy"), (role, "role policy")]
    explicit = [c for c in candidates if not c[0].allowed and c[0].policy is not None]
    denied, layer = (explicit or [c for c in candidates if not c[0].allowed])[0]
    return Decision(
        False, action, resource_arn, f"{layer}: {denied.reason}", denied.policy, denied.statement, denied.sid
    )
