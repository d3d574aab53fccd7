"""The seam where identity plugs into the broker: authenticate at CONNECT, then decide every action.

The broker calls `Authenticator.authenticate` once per CONNECT and keeps the returned `Authority` for the
connection; it then asks `Authority.decide` for iot:Connect, iot:Publish, iot:RetainPublish,
iot:Subscribe and, on every delivery, iot:Receive. Resources are plain names (client id, topic, topic
filter); the authority builds ARNs. Every denial is logged by the broker with the decision's reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from iot_policies.evaluator import CONNECT_ATTRIBUTES, Decision, RequestContext
from localcore.errors import LocalcoreError

Transport = Literal["tcp", "tls", "ws"]


@dataclass(frozen=True)
class ConnectRequest:
    """What the broker knows about a client at CONNECT time."""

    client_id: str
    username: str | None
    password: bytes | None
    transport: Transport
    source_ip: str
    protocol_level: int  # 4 = MQTT 3.1.1, 5 = MQTT 5.0
    clean_start: bool
    has_will: bool = False
    will_retain: bool = False
    # What the transport verified before the first MQTT byte: the WebSocket handshake verifier's result
    # (SigV4 credentials) or the TLS client's `ClientCertificate`, else None.
    handshake_principal: object | None = None
    session_expiry: int = 0  # MQTT 5 Session Expiry Interval asked for in CONNECT

    @property
    def connect_attributes(self) -> tuple[str, ...]:
        """`iot:ConnectAttributes` (mqtt.html "Using connectAttributes"): `PersistentConnect` for a session
        that outlives the connection (3.1.1 cleanSession=0, MQTT 5 Session Expiry > 0), `LastWill` for a Will."""
        persistent = not self.clean_start if self.protocol_level < 5 else self.session_expiry > 0
        return (("PersistentConnect",) if persistent else ()) + (("LastWill",) if self.has_will else ())

    def policy_context(self, context: RequestContext) -> RequestContext:
        """`context` plus this connection's `iot:ConnectAttributes`, for every decision on the connection."""
        attributes = {**context.multi_values, CONNECT_ATTRIBUTES: self.connect_attributes}
        return dataclasses.replace(context, multi_values=attributes)


@dataclass(frozen=True)
class ClientCertificate:
    """The X.509 certificate (DER) a TLS client presented, already verified against the listener's trust store:
    the identity of a device on AWS's port 8883."""

    der: bytes


class Authority(Protocol):
    """The policy view of one connected principal."""

    @property
    def principal_id(self) -> str:
        """Stable id for logs and the rules engine's principal()."""
        ...

    def decide(self, action: str, resource: str) -> Decision:
        """Decide `action` (e.g. "iot:Publish") on a client id, topic or topic filter."""
        ...


class ConnectRefused(LocalcoreError):
    """Authentication failed: CONNACK with `reason_code` (MQTT 5) or its 3.1.1 equivalent, then close."""

    def __init__(self, reason_code: int, reason: str) -> None:
        super().__init__(reason)
        self.reason_code = reason_code
        self.reason = reason


class Authenticator(Protocol):
    """Turns a CONNECT into an Authority, or refuses it with ConnectRefused."""

    def authenticate(self, request: ConnectRequest) -> Authority: ...


class HandshakeRejected(LocalcoreError):
    """The WebSocket upgrade is refused with an HTTP status (403 for a bad SigV4 signature).

    `reason` is for localcore's log; `body` is what the client sees (AWS tells it nothing more than the status).
    """

    def __init__(self, status: int, reason: str, body: str = "Forbidden") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.body = body


class HandshakeVerifier(Protocol):
    """Checks the WebSocket upgrade request before any MQTT byte (SigV4 presigned URL in AWS)."""

    def verify(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> object | None:
        """`path` is the raw request target (`/mqtt?X-Amz-...`), `query` its decoded parameters."""
        ...


@dataclass
class AllowAll:
    """An authority that allows everything: for internal clients and benchmarks' reference runs."""

    principal_id: str = "localcore"

    def decide(self, action: str, resource: str) -> Decision:
        return Decision(allowed=True, action=action, resource=resource, reason="allow-all authority")


@dataclass
class AllowAllAuthenticator:
    """Accepts every CONNECT with an AllowAll authority (principal = username, else client id)."""

    def authenticate(self, request: ConnectRequest) -> Authority:
        return AllowAll(principal_id=request.username or request.client_id)
