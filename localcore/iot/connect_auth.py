"""How the full local stack authenticates MQTT connections.

- A WebSocket connection whose SigV4 presigned URL was verified carries the signing `Caller`: its role
  policy and (for authenticated Cognito identities) its attached IoT policies decide every action.
- A plain MQTT connection (TCP/TLS) in local mode: the MQTT username is the identity id and the IoT policy
  named `local_mode_policy` in the policy store (`iotstream-user`) applies, live, as if attached to that
  identity — the paho-friendly option. With local mode off it is refused, as AWS refuses a connection
  with no credentials.
- The local admin's key (allowed everything) is refused on MQTT unless development asks for it
  (`iotstream up --admin-mqtt`): with it, anyone holding the key could take any client id and read `#`.
"""

from __future__ import annotations

from dataclasses import dataclass

from iot_policies.arns import resource_arn
from iot_policies.evaluator import Decision, RequestContext, evaluate
from localcore.broker.authorization import Authority, ConnectRefused, ConnectRequest
from localcore.broker.codec import RC
from localcore.broker.local_auth import local_identity
from localcore.iam.principals import PrincipalPolicies
from localcore.identity.credentials import Caller
from localcore.iot.exceptions import ResourceNotFoundException
from localcore.iot.policies import PolicyStore


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


@dataclass(frozen=True)
class LocalModeAuthority:
    """Local mode: one named policy of the store decides for the username's identity (read at each decision)."""

    principal_id: str
    store: PolicyStore
    policy_name: str
    context: RequestContext

    def decide(self, action: str, resource: str) -> Decision:
        arn = resource_arn(action, resource, self.store.region, self.store.account)
        try:
            document = self.store.get_policy(self.policy_name).default.document
        except ResourceNotFoundException:
            return Decision(False, action, arn, f"local-mode policy {self.policy_name!r} does not exist")
        return evaluate([document], action, arn, self.context)


class StackAuthenticator:
    """SigV4 callers for WebSockets; local mode (username = identity) for plain MQTT when enabled."""

    def __init__(
        self,
        principals: PrincipalPolicies,
        policies: PolicyStore,
        local_mode_policy: str | None,
        refused_access_key_id: str | None = None,
    ) -> None:
        """`policies`: where local mode reads its policy; `refused_access_key_id`: a key never accepted on MQTT
        (the local admin's, unless --admin-mqtt)."""
        self.principals = principals
        self.policies = policies
        self.local_mode_policy = local_mode_policy
        self.refused_access_key_id = refused_access_key_id

    def authenticate(self, request: ConnectRequest) -> Authority:
        caller = request.handshake_principal
        if isinstance(caller, Caller):
            if caller.access_key_id == self.refused_access_key_id:
                raise ConnectRefused(
                    RC.NOT_AUTHORIZED,
                    "the local admin key is not accepted on MQTT (development only: iotstream up --admin-mqtt)",
                )
            context = self.principals.context(caller, request.client_id, request.source_ip)
            return CallerAuthority(caller, self.principals, request.policy_context(context))
        if self.local_mode_policy is not None and request.transport in ("tcp", "tls"):
            identity = local_identity(request)
            context = RequestContext.for_identity(identity, request.client_id, request.source_ip)
            return LocalModeAuthority(
                identity, self.policies, self.local_mode_policy, request.policy_context(context)
            )
        raise ConnectRefused(
            RC.NOT_AUTHORIZED, "no credentials: connect over WebSockets with a SigV4-signed URL"
        )
