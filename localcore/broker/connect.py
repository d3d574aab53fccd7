"""CONNECT, step by step: client id, Will, authentication and authorization, session expiry, CONNACK.

Each step either returns what the next one needs or raises `Refusal` (answered with a CONNACK failure, then the
connection is closed) or `ProtocolError` (closed without CONNACK, where AWS does that). AWS choices: mqtt.html
"MQTT" (client ids, persistent sessions) and "AWS IoT differences from MQTT specifications" (no QoS 2).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from localcore.broker import codec
from localcore.broker.authorization import Authenticator, ConnectRefused, ConnectRequest, Transport
from localcore.broker.denials import DenialLog, log_denial
from localcore.broker.enforcement import Enforcer
from localcore.broker.errors import InvalidTopic, ProtocolError
from localcore.broker.limits import BrokerLimits
from localcore.broker.reasons import RC, describe

log = logging.getLogger("localcore.broker.protocol")


@dataclass(frozen=True, slots=True)
class Peer:
    """What the transport knows about the client before its first byte."""

    transport: Transport
    source_ip: str
    handshake_principal: object | None = None  # what the WebSocket handshake verifier returned


class Refusal(Exception):
    """Refuse the CONNECT with `code` in the CONNACK (its 3.1.1 equivalent on 3.1.1), then close."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(f"{why} ({describe(code)})")
        self.code = code
        self.why = why


def client_id_of(connect: codec.Connect) -> tuple[str, bool]:
    """The client id, and whether the broker assigned it (MQTT 5 tells the client in the CONNACK)."""
    if connect.client_id:
        return connect.client_id, False
    if connect.protocol_level == codec.MQTT311 and not connect.clean_start:
        raise Refusal(RC.CLIENT_ID_NOT_VALID, "empty client id with a persistent session")
    return f"localcore-{uuid.uuid4().hex}", connect.protocol_level == codec.MQTT5


def check_client_id(client_id: str, limits: BrokerLimits) -> None:
    """AWS: at most 128 bytes; `$` starts reserved ids."""
    if limits.max_client_id_bytes is not None and len(client_id.encode()) > limits.max_client_id_bytes:
        raise Refusal(RC.CLIENT_ID_NOT_VALID, "client id longer than the limit")
    if client_id.startswith("$"):
        raise Refusal(RC.CLIENT_ID_NOT_VALID, "client ids starting with $ are reserved")


def check_will(
    connect: codec.Connect, limits: BrokerLimits, validate_topic: Callable[[str, bool], None]
) -> None:
    """A Will must be publishable: QoS 0 or 1, a valid topic, a payload within the limit."""
    will = connect.will
    if will is None:
        return
    if will.qos == 2:
        if connect.protocol_level == codec.MQTT5:
            raise Refusal(RC.QOS_NOT_SUPPORTED, "will QoS 2")
        raise ProtocolError(RC.QOS_NOT_SUPPORTED, "will QoS 2 (AWS closes without CONNACK)")
    try:
        validate_topic(will.topic, will.retain)
    except InvalidTopic as error:
        raise Refusal(RC.TOPIC_NAME_INVALID, str(error)) from error
    if limits.max_payload_bytes is not None and len(will.payload) > limits.max_payload_bytes:
        raise Refusal(RC.PACKET_TOO_LARGE, "will payload over the limit")


def connect_request(connect: codec.Connect, client_id: str, peer: Peer) -> ConnectRequest:
    will = connect.will
    return ConnectRequest(
        client_id=client_id,
        username=connect.username,
        password=connect.password,
        transport=peer.transport,
        source_ip=peer.source_ip,
        protocol_level=connect.protocol_level,
        clean_start=connect.clean_start,
        has_will=will is not None,
        will_retain=bool(will and will.retain),
        handshake_principal=peer.handshake_principal,
        session_expiry=connect.properties.get(codec.P_SESSION_EXPIRY, 0),
    )


def authenticate(
    request: ConnectRequest, authenticator: Authenticator, clock: Callable[[], float]
) -> Enforcer:
    """Authenticate, then authorize iot:Connect on the client id (a refusal is logged with its reason).
    The connection's denials are logged through a `DenialLog` reading `clock`."""
    client_id = request.client_id
    try:
        authority = authenticator.authenticate(request)
    except ConnectRefused as refused:
        log_denial("iot:Connect", client_id, client_id, None, refused.reason, event="connect-refused")
        raise Refusal(refused.reason_code, refused.reason) from refused
    enforcer = Enforcer(authority, client_id, DenialLog(client_id, authority.principal_id, clock))
    if not enforcer.allowed("iot:Connect", client_id):
        raise Refusal(RC.NOT_AUTHORIZED, "iot:Connect denied")
    return enforcer


def authorize_will(will: codec.Will | None, enforcer: Enforcer) -> None:
    """AWS authorizes the Will at CONNECT: iot:Publish, plus iot:RetainPublish when it is retained."""
    if will is not None and not (
        enforcer.allowed("iot:Publish", will.topic)
        and (not will.retain or enforcer.allowed("iot:RetainPublish", will.topic))
    ):
        raise Refusal(RC.NOT_AUTHORIZED, "will publish denied")


def session_expiry(connect: codec.Connect, limits: BrokerLimits) -> int:
    """Seconds the session outlives the connection: 3.1.1 clean session → 0, else the broker's cap;
    MQTT 5 → the client's Session Expiry Interval, capped."""
    if connect.protocol_level == codec.MQTT311:
        return 0 if connect.clean_start else limits.session_expiry_seconds
    requested: int = connect.properties.get(codec.P_SESSION_EXPIRY, 0)
    return min(requested, limits.session_expiry_seconds)


def connack_properties(
    connect: codec.Connect,
    limits: BrokerLimits,
    keep_alive: int,
    expiry: int,
    assigned_client_id: str | None,
) -> codec.Properties:
    """MQTT 5 CONNACK properties: what the broker supports and what it changed from the client's request."""
    props: codec.Properties = {
        codec.P_MAXIMUM_QOS: 1,
        codec.P_RETAIN_AVAILABLE: 1,
        codec.P_SUB_ID_AVAILABLE: 0,
        codec.P_SHARED_SUB_AVAILABLE: 1,
        codec.P_WILDCARD_SUB_AVAILABLE: 1,
        codec.P_TOPIC_ALIAS_MAXIMUM: limits.topic_alias_maximum,
        codec.P_SERVER_KEEP_ALIVE: keep_alive,
        codec.P_MAXIMUM_PACKET_SIZE: limits.max_packet_size,
        codec.P_RECEIVE_MAXIMUM: limits.receive_maximum,
    }
    if assigned_client_id is not None:
        props[codec.P_ASSIGNED_CLIENT_ID] = assigned_client_id
    if connect.properties.get(codec.P_SESSION_EXPIRY, 0) != expiry:
        props[codec.P_SESSION_EXPIRY] = expiry
    return props
