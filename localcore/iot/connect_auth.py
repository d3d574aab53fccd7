"""How the full local stack authenticates MQTT connections.

- A TLS connection (AWS's port 8883) authenticates with its X.509 client certificate, which must be
  registered and ACTIVE (API_UpdateCertificate.html); the IoT policies attached to the certificate decide,
  with its certificate variables, `iot:ClientId` and its thing's variables (`connection_variables.py`).
  Without a client certificate it is refused: port 8883 takes X.509 client certificates only
  (https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html).
- A WebSocket connection whose SigV4 presigned URL was verified carries the signing `Caller`: its role
  policy and (for authenticated Cognito identities) its attached IoT policies decide every action; an
  identity attached to a thing (AttachThingPrincipal) resolves the thing variables too.
- A plain MQTT connection (TCP, no AWS counterpart) in local mode: the MQTT username is the identity id and
  the IoT policy named `local_mode_policy` in the policy store (`iotstream-user`) applies, live, as if
  attached to that identity — the paho-friendly option. With local mode off it is refused, as AWS refuses a
  connection with no credentials.
- The local admin's key (allowed everything) is refused on the SigV4 WebSocket unless development asks for it
  (`iotstream up --admin-mqtt`): with it, anyone holding the key could take any client id and read `#`.
- The admin login on plain MQTT or TLS (username = admin key id, password = its secret) watches everything
  under a restricted policy (`admin_login.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cryptography import x509

from iot_policies.arns import resource_arn
from iot_policies.evaluator import CLIENT_ID, Decision, RequestContext, evaluate
from localcore.broker.authorization import Authority, ClientCertificate, ConnectRefused, ConnectRequest
from localcore.broker.codec import RC
from localcore.broker.local_auth import local_identity
from localcore.iam.principals import PrincipalPolicies
from localcore.identity.credentials import Caller
from localcore.iot.admin_login import admin_login
from localcore.iot.backend import IotBackend
from localcore.iot.certificates import StoredCertificate
from localcore.iot.connection_variables import certificate_variables, thing_variables
from localcore.iot.exceptions import ResourceNotFoundException
from localcore.iot.policies import PolicyStore
from localcore.iot.things import ThingStore


def with_thing(context: RequestContext, things: ThingStore, principal: str, client_id: str) -> RequestContext:
    """`context` plus the thing variables of `principal` connected as `client_id`, as the registry is now."""
    thing = things.connection_thing(principal, client_id)
    return replace(context, variables={**context.variables, **thing_variables(thing)})


@dataclass(frozen=True)
class CertificateAuthority:
    """A device authenticated by its X.509 certificate: the policies attached to the certificate decide, read
    at each decision (the broker caches decisions until policies, attachments or things change)."""

    certificate: StoredCertificate
    backend: IotBackend
    client_id: str
    context: RequestContext  # client id, source ip, connect attributes, certificate variables

    @property
    def principal_id(self) -> str:
        """The certificate id: what AWS's principal() and lifecycle events give for X.509 clients."""
        return self.certificate.certificate_id

    def decide(self, action: str, resource: str) -> Decision:
        backend = self.backend
        arn = resource_arn(action, resource, backend.region, backend.account)
        context = with_thing(self.context, backend.things, self.certificate.arn, self.client_id)
        return evaluate(backend.policies.documents_for(self.certificate.arn), action, arn, context)


@dataclass(frozen=True)
class CallerAuthority:
    """The policy view of one SigV4-authenticated connection."""

    caller: Caller
    principals: PrincipalPolicies
    things: ThingStore
    client_id: str
    context: RequestContext

    @property
    def principal_id(self) -> str:
        return self.caller.principal_id

    def decide(self, action: str, resource: str) -> Decision:
        identity = self.caller.identity_id
        context = (
            self.context
            if identity is None
            else with_thing(self.context, self.things, identity, self.client_id)
        )
        return self.principals.decide(self.caller, action, resource, context)


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
    """X.509 client certificates on TLS; SigV4 callers for WebSockets; local mode (username = identity) for
    plain MQTT when enabled."""

    def __init__(
        self,
        principals: PrincipalPolicies,
        backend: IotBackend,
        local_mode_policy: str | None,
        refused_access_key_id: str | None = None,
        admin_key: tuple[str, str] | None = None,
    ) -> None:
        """`backend`: certificates, things and the policies local mode reads; `refused_access_key_id`: a key
        never accepted on the WebSocket (the local admin's, unless --admin-mqtt); `admin_key`: (key id, secret)
        of the admin login."""
        self.principals = principals
        self.backend = backend
        self.local_mode_policy = local_mode_policy
        self.refused_access_key_id = refused_access_key_id
        self.admin_key = admin_key

    def authenticate(self, request: ConnectRequest) -> Authority:
        presented = request.handshake_principal
        if isinstance(presented, ClientCertificate):
            return self._certificate(request, presented)
        if isinstance(presented, Caller):
            if presented.access_key_id == self.refused_access_key_id:
                raise ConnectRefused(
                    RC.NOT_AUTHORIZED,
                    "the local admin key is not accepted on MQTT (development only: iotstream up --admin-mqtt)",
                )
            context = self.principals.context(presented, request.client_id, request.source_ip)
            return CallerAuthority(
                presented,
                self.principals,
                self.backend.things,
                request.client_id,
                request.policy_context(context),
            )
        admin = admin_login(request, *self.admin_key) if self.admin_key is not None else None
        if admin is not None:
            return admin
        if request.transport == "tls":
            raise ConnectRefused(
                RC.NOT_AUTHORIZED,
                "MQTT over TLS needs a client certificate (AWS's port 8883 takes X.509 only): connect with "
                "the certificate and key from CreateKeysAndCertificate, or use local mode on the plain MQTT port",
            )
        if self.local_mode_policy is not None and request.transport == "tcp":
            identity = local_identity(request)
            context = RequestContext.for_identity(identity, request.client_id, request.source_ip)
            return LocalModeAuthority(
                identity, self.backend.policies, self.local_mode_policy, request.policy_context(context)
            )
        raise ConnectRefused(
            RC.NOT_AUTHORIZED, "no credentials: connect over WebSockets with a SigV4-signed URL"
        )

    def _certificate(self, request: ConnectRequest, presented: ClientCertificate) -> CertificateAuthority:
        """A registered, ACTIVE certificate authenticates; anything else is refused with the reason why."""
        stored = self.backend.certificates.find(presented.der)
        if stored is None:
            raise ConnectRefused(
                RC.NOT_AUTHORIZED,
                "the client certificate is not registered in this account "
                "(CreateKeysAndCertificate, CreateCertificateFromCsr, RegisterCertificate)",
            )
        if not stored.active:
            raise ConnectRefused(
                RC.NOT_AUTHORIZED,
                f"certificate {stored.certificate_id} is {stored.status}: only ACTIVE certificates connect",
            )
        variables = certificate_variables(x509.load_der_x509_certificate(presented.der))
        context = RequestContext(
            variables={**variables.values, CLIENT_ID: request.client_id},
            source_ip=request.source_ip,
            multi_values=variables.lists,
        )
        return CertificateAuthority(stored, self.backend, request.client_id, request.policy_context(context))
