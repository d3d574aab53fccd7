"""How the full local stack authenticates MQTT connections.

- A WebSocket connection whose SigV4 presigned URL was verified carries the signing `Caller`: its role
  policy and (for authenticated Cognito identities) its attached IoT policies decide every action.
- A plain MQTT connection (TCP/TLS) in local mode: the MQTT username is the identity id and the shipped
  `user` policy applies — the paho-friendly option. With local mode off it is refused, as AWS refuses a
  connection with no credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

from iot_policies.evaluator import Decision, RequestContext
from localcore.broker.authorization import Authority, ConnectRefused, ConnectRequest
from localcore.broker.codec import RC
from localcore.broker.local_auth import LocalModeAuthenticator
from localcore.identity.credentials import Caller
from localcore.principal_policies import PrincipalPolicies


@dataclass(frozen=True)
class CallerAuthority:
    """The policy view of one SigV4-authenticated connection."""

    caller: Caller
    principals: PrincipalPolicies
    context: RequestContext

    @property
    def principal_id(self) -> str:
        return self.caller.principal_id

    def decide(self, action: str, resource: str) -> Decision:
        return self.principals.decide(self.caller, action, resource, self.context)


class StackAuthenticator:
    """SigV4 callers for WebSockets; local mode (username = identity) for plain MQTT when enabled."""

    def __init__(self, principals: PrincipalPolicies, local_mode: LocalModeAuthenticator | None) -> None:
        self.principals = principals
        self.local_mode = local_mode

    def authenticate(self, request: ConnectRequest) -> Authority:
        caller = request.handshake_principal
        if isinstance(caller, Caller):
            context = self.principals.context(caller, request.client_id, request.source_ip)
            return CallerAuthority(caller, self.principals, context)
        if self.local_mode is not None and request.transport in ("tcp", "tls"):
            return self.local_mode.authenticate(request)
        raise ConnectRefused(
            RC.NOT_AUTHORIZED, "no credentials: connect over WebSockets with a SigV4-signed URL"
        )
