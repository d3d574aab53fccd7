"""What a connected client's packets do: PUBLISH, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT.

AWS choices (see docs/broker.md for the reasoning):
- QoS 2 PUBLISH: MQTT 5 → DISCONNECT 0x9B; MQTT 3.1.1 → connection closed (CLIENT_ERROR).
- Denied or invalid PUBLISH: MQTT 5 QoS 1 → PUBACK with the reason code; MQTT 5 QoS 0 → DISCONNECT with it;
  MQTT 3.1.1 → connection closed.
- Denied SUBSCRIBE filter: SUBACK failure (0x80 on 3.1.1, 0x87 on 5); on 3.1.1 the connection is then closed.
- Publishes over 100/s per connection are discarded (QoS 1 still gets a PUBACK: 0x97 on MQTT 5).
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from localcore.broker import codec
from localcore.broker.codec import RC
from localcore.broker.errors import InvalidTopic, ProtocolError
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.message import NO_PROPERTIES, Message, Publisher, PublishProperties, new_trace_id
from localcore.broker.topics import ParsedFilter, parse_filter

if TYPE_CHECKING:
    from localcore.broker.broker import Broker
    from localcore.broker.connection import ByteStream, RateWindow
    from localcore.broker.enforcement import Enforcer
    from localcore.broker.limits import BrokerLimits
    from localcore.broker.sessions import Session


def message_properties(props: codec.Properties, max_expiry: int) -> PublishProperties:
    """PUBLISH properties → PublishProperties (AWS: expiry 0 becomes 1; larger values are capped)."""
    if not props:
        return NO_PROPERTIES
    expiry = props.get(codec.P_MESSAGE_EXPIRY)
    if expiry is not None:
        expiry = min(max(expiry, 1), max_expiry)
    return PublishProperties(
        payload_format_indicator=props.get(codec.P_PAYLOAD_FORMAT),
        message_expiry_interval=expiry,
        content_type=props.get(codec.P_CONTENT_TYPE),
        response_topic=props.get(codec.P_RESPONSE_TOPIC),
        correlation_data=props.get(codec.P_CORRELATION_DATA),
        user_properties=tuple(props.get(codec.P_USER_PROPERTY, ())),
    )


class PacketHandlers(abc.ABC):
    """Mixed into ClientConnection; the attributes below are its state."""

    broker: Broker
    stream: ByteStream
    limits: BrokerLimits
    protocol_level: int
    client_id: str
    principal: str
    session_identifier: str
    session: Session | None
    enforcer: Enforcer | None
    rate: RateWindow
    aliases: dict[int, str]

    @abc.abstractmethod
    def send(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def close(self, reason: DisconnectReason, code: int | None = None, publish_will: bool = True) -> None: ...

    @abc.abstractmethod
    def client_disconnected(self, publish_will: bool) -> None: ...

    def handle(self, packet: codec.Packet) -> None:
        if isinstance(packet, codec.Publish):
            self._on_publish(packet)
        elif isinstance(packet, codec.Puback):
            assert self.session is not None
            self.session.acknowledge(packet.packet_id)
        elif isinstance(packet, codec.Subscribe):
            self._on_subscribe(packet)
        elif isinstance(packet, codec.Unsubscribe):
            self._on_unsubscribe(packet)
        elif isinstance(packet, codec.Pingreq):
            self.send(codec.PINGRESP_BYTES)
        else:
            self._on_disconnect(packet)

    # ------------------------------------------------------------------ PUBLISH

    def _reject_publish(self, packet: codec.Publish, code: int, reason: DisconnectReason) -> None:
        if self.protocol_level == codec.MQTT5 and packet.qos == 1:
            self.send(codec.encode_puback(codec.MQTT5, packet.packet_id, code))
        else:
            self.close(reason, code)

    def _on_publish(self, packet: codec.Publish) -> None:
        level = self.protocol_level
        if packet.qos == 2:
            raise ProtocolError(RC.QOS_NOT_SUPPORTED, "QoS 2 is not supported")
        topic = packet.topic
        props = packet.properties
        if props:
            alias = props.get(codec.P_TOPIC_ALIAS)
            if alias is not None:
                if alias == 0 or alias > self.limits.topic_alias_maximum:
                    raise ProtocolError(RC.TOPIC_ALIAS_INVALID, f"topic alias {alias}")
                if topic:
                    self.aliases[alias] = topic
                elif alias in self.aliases:
                    topic = self.aliases[alias]
                else:
                    raise ProtocolError(RC.PROTOCOL_ERROR, f"unknown topic alias {alias}")
            if codec.P_SUBSCRIPTION_ID in props:
                raise ProtocolError(RC.PROTOCOL_ERROR, "subscription identifier in a client PUBLISH")
        max_payload = self.limits.max_payload_bytes
        if max_payload is not None and len(packet.payload) > max_payload:
            raise ProtocolError(RC.PACKET_TOO_LARGE, f"payload of {len(packet.payload)} bytes over the limit")
        try:
            self.broker.validate_publish_topic(topic, packet.retain)
        except InvalidTopic:
            self._reject_publish(packet, RC.TOPIC_NAME_INVALID, DisconnectReason.CLIENT_ERROR)
            return
        if not self.rate.allow():
            self.broker.note_throttled(self.client_id, topic)
            if packet.qos:
                self.send(codec.encode_puback(level, packet.packet_id, RC.QUOTA_EXCEEDED))
            return
        enforcer = self.enforcer
        assert enforcer is not None
        if not enforcer.allowed("iot:Publish", topic) or (
            packet.retain and not enforcer.allowed("iot:RetainPublish", topic)
        ):
            self._reject_publish(packet, RC.NOT_AUTHORIZED, DisconnectReason.AUTH_ERROR)
            return
        message = Message(
            topic,
            packet.payload,
            packet.qos,
            packet.retain,
            message_properties(props, self.limits.max_message_expiry_seconds),
            Publisher(self.client_id, self.principal, self.stream.source_ip, new_trace_id()),
        )
        self.broker.route(message, self.session)
        if packet.qos:
            self.send(codec.encode_puback(level, packet.packet_id))

    # ------------------------------------------------------------------ SUBSCRIBE / UNSUBSCRIBE

    def _on_subscribe(self, packet: codec.Subscribe) -> None:
        level = self.protocol_level
        session = self.session
        enforcer = self.enforcer
        assert session is not None and enforcer is not None
        if codec.P_SUBSCRIPTION_ID in packet.properties:
            raise ProtocolError(
                RC.SUBSCRIPTION_IDS_NOT_SUPPORTED, "subscription identifiers are not supported"
            )
        failure = 0x80
        limits = self.limits
        if (
            limits.max_filters_per_subscribe is not None
            and len(packet.requests) > limits.max_filters_per_subscribe
        ):
            code = RC.QUOTA_EXCEEDED if level == codec.MQTT5 else failure
            self.send(codec.encode_suback(level, packet.packet_id, [code] * len(packet.requests)))
            return
        codes: list[int] = []
        added: list[str] = []
        retained: list[tuple[ParsedFilter, int]] = []
        denied = False
        for text, options in packet.requests:
            qos = min(options & 0x03, 1)  # AWS grants QoS 1 for a QoS 2 request
            no_local = bool(options & 0x04)
            retain_as_published = bool(options & 0x08)
            retain_handling = (options >> 4) & 0x03
            try:
                parsed = parse_filter(text, limits)
            except InvalidTopic:
                codes.append(RC.TOPIC_FILTER_INVALID if level == codec.MQTT5 else failure)
                continue
            if parsed.share_group is not None and no_local:
                raise ProtocolError(RC.PROTOCOL_ERROR, "No Local on a shared subscription")
            if not enforcer.allowed("iot:Subscribe", text):
                codes.append(RC.NOT_AUTHORIZED if level == codec.MQTT5 else failure)
                denied = True
                continue
            cap = limits.max_subscriptions_per_connection
            if cap is not None and text not in session.subscriptions and len(session.subscriptions) >= cap:
                codes.append(RC.QUOTA_EXCEEDED if level == codec.MQTT5 else failure)
                continue
            is_new = self.broker.subscribe(session, parsed, qos, no_local, retain_as_published)
            codes.append(qos)
            added.append(text)
            if retain_handling == 0 or (retain_handling == 1 and is_new):
                retained.append((parsed, qos))
        self.send(codec.encode_suback(level, packet.packet_id, codes))
        for parsed, qos in retained:
            self.broker.deliver_retained(session, parsed, qos)
        if added:
            self.broker.subscriptions_changed(
                self.client_id, self.session_identifier, self.principal, "subscribed", added
            )
        if denied and level == codec.MQTT311:
            self.close(DisconnectReason.AUTH_ERROR)

    def _on_unsubscribe(self, packet: codec.Unsubscribe) -> None:
        session = self.session
        assert session is not None
        codes: list[int] = []
        removed: list[str] = []
        for text in packet.filters:
            try:
                parsed = parse_filter(text, self.limits)
            except InvalidTopic:
                codes.append(RC.TOPIC_FILTER_INVALID)
                continue
            existed = self.broker.unsubscribe(session, parsed)
            codes.append(RC.SUCCESS if existed else RC.NO_SUBSCRIPTION_EXISTED)
            removed.append(text)
        self.send(codec.encode_unsuback(self.protocol_level, packet.packet_id, codes))
        if removed:
            self.broker.subscriptions_changed(
                self.client_id, self.session_identifier, self.principal, "unsubscribed", removed
            )

    # ------------------------------------------------------------------ DISCONNECT

    def _on_disconnect(self, packet: codec.Packet) -> None:
        assert isinstance(packet, codec.Disconnect)
        session = self.session
        assert session is not None
        requested = packet.properties.get(codec.P_SESSION_EXPIRY)
        if requested is not None:
            if session.expiry == 0 and requested > 0:
                raise ProtocolError(RC.PROTOCOL_ERROR, "session expiry cannot change from 0 on DISCONNECT")
            session.expiry = min(requested, self.limits.session_expiry_seconds)
        self.client_disconnected(publish_will=packet.reason_code == RC.DISCONNECT_WITH_WILL)
