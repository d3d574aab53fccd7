"""MQTT 5 PUBLISH properties: topic aliases, and ⇄ `PublishProperties` (what a publisher sent in, what a
receiver gets out)."""

from __future__ import annotations

from localcore.broker import codec
from localcore.broker.errors import ProtocolError
from localcore.broker.message import NO_PROPERTIES, PublishProperties
from localcore.broker.reasons import RC


class TopicAliases:
    """One connection's inbound topic aliases (MQTT 5.0 section 3.3.2.3.4; AWS allows 8, mqtt.html)."""

    __slots__ = ("_topics", "maximum")

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self._topics: dict[int, str] = {}

    def resolve(self, topic: str, props: codec.Properties) -> str:
        """The PUBLISH's topic: a topic with alias N sets the alias, an empty topic with alias N uses it."""
        alias = props.get(codec.P_TOPIC_ALIAS)
        if alias is None:
            return topic
        if alias == 0 or alias > self.maximum:
            raise ProtocolError(RC.TOPIC_ALIAS_INVALID, f"topic alias {alias}")
        if topic:
            self._topics[alias] = topic
            return topic
        known = self._topics.get(alias)
        if known is None:
            raise ProtocolError(RC.PROTOCOL_ERROR, f"unknown topic alias {alias}")
        return known


def message_properties(props: codec.Properties, max_expiry: int) -> PublishProperties:
    """PUBLISH (or Will) properties → PublishProperties (AWS: expiry 0 becomes 1; larger values are capped)."""
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


def publish_properties(props: PublishProperties, now: float, received_at: float) -> codec.Properties:
    """MQTT 5 PUBLISH properties of a message, with the expiry interval counted down."""
    out: codec.Properties = {}
    if props.payload_format_indicator is not None:
        out[codec.P_PAYLOAD_FORMAT] = props.payload_format_indicator
    if props.message_expiry_interval is not None:
        out[codec.P_MESSAGE_EXPIRY] = max(1, int(props.message_expiry_interval - (now - received_at)))
    if props.content_type is not None:
        out[codec.P_CONTENT_TYPE] = props.content_type
    if props.response_topic is not None:
        out[codec.P_RESPONSE_TOPIC] = props.response_topic
    if props.correlation_data is not None:
        out[codec.P_CORRELATION_DATA] = props.correlation_data
    if props.user_properties:
        out[codec.P_USER_PROPERTY] = list(props.user_properties)
    return out
