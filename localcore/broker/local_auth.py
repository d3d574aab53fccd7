"""Local-mode authentication: the MQTT username is the identity id, and the shipped `user` policy decides.

This stands in for "Cognito identity + attached IoT policy" when no SigV4 handshake is involved (plain MQTT
on 127.0.0.1): policy variables are `cognito-identity.amazonaws.com:sub` = username and `iot:ClientId` =
the client id, so a user can only connect as `{id}` or `{id}-*` and only touch `chat/{id}/...`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from iot_policies.arns import resource_arn
from iot_policies.document import PolicyDocument
from iot_policies.evaluator import Decision, RequestContext, evaluate
from iot_policies.library import load_shipped
from localcore.broker.authorization import Authority, ConnectRefused, ConnectRequest
from localcore.broker.reasons import RC


@dataclass(frozen=True)
class PolicyAuthority:
    """Decides with IoT policy documents for one connection's request context."""

    principal_id: str
    policies: tuple[PolicyDocument, ...]
    context: RequestContext

    def decide(self, action: str, resource: str) -> Decision:
        return evaluate(self.policies, action, resource_arn(action, resource), self.context)


def local_identity(request: ConnectRequest) -> str:
    """Local mode's identity: the MQTT username (no username: CONNACK 0x86 / 3.1.1 code 4)."""
    if not request.username:
        raise ConnectRefused(
            RC.BAD_USERNAME_OR_PASSWORD, "local mode: the MQTT username must be the identity id"
        )
    return request.username


class LocalModeAuthenticator:
    """Username = identity id; the shipped `user` policy (or the given policies) applies. No username → refused."""

    def __init__(self, policies: Sequence[PolicyDocument] | None = None) -> None:
        self.policies = tuple(policies) if policies is not None else (load_shipped("user"),)

    def authenticate(self, request: ConnectRequest) -> Authority:
        identity = local_identity(request)
        context = RequestContext.for_identity(identity, request.client_id, request.source_ip)
        return PolicyAuthority(identity, self.policies, request.policy_context(context))
