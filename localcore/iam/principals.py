"""One place that decides what a signed-in principal may do, for every localcore endpoint.

IAM principals (the Lambda execution role, the local admin) and unauthenticated Cognito identities are
decided by their role's IAM policy alone. Authenticated Cognito identities doing IoT data-plane actions
need both: the role policy AND the IoT policies attached to the identity (cog-iot-policies.html).
Attachments are read from the IoT policy store on every decision, so changes apply to live connections.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from iot_policies.arns import CONNECT, PUBLISH, RECEIVE, RETAIN_PUBLISH, SUBSCRIBE, resource_arn
from iot_policies.document import PolicyDocument, parse_policy
from iot_policies.evaluator import COGNITO_AUD, Decision, RequestContext, evaluate, evaluate_authenticated
from localcore.identity.credentials import Caller, Role

# Actions for which IoT intersects the role policy with the identity's attached IoT policies.
IOT_POLICY_ACTIONS = frozenset({CONNECT, PUBLISH, SUBSCRIBE, RECEIVE, RETAIN_PUBLISH})


class AttachedPolicies(Protocol):
    """Where the IoT policies attached to a principal are read: the IoT backend's policy store."""

    @property
    def region(self) -> str: ...

    @property
    def account(self) -> str: ...

    def documents_for(self, target: str) -> list[PolicyDocument]:
        """The default version of every policy attached to `target`."""
        ...


class PrincipalPolicies:
    """Decisions for Callers (who signed the request) against role and IoT policies."""

    def __init__(self, policy_store: AttachedPolicies) -> None:
        self.policy_store = policy_store
        self._lock = threading.Lock()
        self._role_documents: dict[int, tuple[Role, PolicyDocument]] = {}  # id(role) -> (role, document)

    def role_document(self, role: Role) -> PolicyDocument:
        """The role's IAM policy, parsed once per Role object (roles are built once, at start)."""
        with self._lock:
            cached = self._role_documents.get(id(role))
            if cached is None or cached[0] is not role:
                cached = (role, parse_policy(role.policy or _deny_all(), f"role {role.name}"))
                self._role_documents[id(role)] = cached
            return cached[1]

    def context(
        self, caller: Caller, client_id: str | None = None, source_ip: str | None = None
    ) -> RequestContext:
        """The policy variables this caller resolves: its identity id and pool (`…:sub`, `…:aud`), the MQTT
        client id, its address."""
        pool = {COGNITO_AUD: caller.identity_pool_id} if caller.identity_pool_id else {}
        return RequestContext.for_identity(caller.identity_id, client_id, source_ip, **pool)

    def decide_arn(self, caller: Caller, action: str, arn: str, context: RequestContext) -> Decision:
        """Decide `action` on a full resource ARN."""
        roles = [self.role_document(caller.role)]
        if caller.kind == "cognito" and caller.authenticated and action in IOT_POLICY_ACTIONS:
            attached = self.policy_store.documents_for(caller.identity_id or "")
            return evaluate_authenticated(attached, roles, action, arn, context)
        return evaluate(roles, action, arn, context)

    def decide(self, caller: Caller, action: str, resource: str, context: RequestContext) -> Decision:
        """Decide an IoT data-plane action on a client id, topic or topic filter."""
        arn = resource_arn(action, resource, self.policy_store.region, self.policy_store.account)
        return self.decide_arn(caller, action, arn, context)


def _deny_all() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
