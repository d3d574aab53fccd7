"""The message that flows through the broker, the rules engine and the iot-data endpoint."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PublishProperties:
    """The MQTT 5 publish properties AWS IoT forwards (dropped for MQTT 3.1.1 receivers)."""

    payload_format_indicator: int | None = None  # 0 = unspecified bytes, 1 = UTF-8
    message_expiry_interval: int | None = None  # seconds
    content_type: str | None = None
    response_topic: str | None = None
    correlation_data: bytes | None = None
    user_properties: tuple[tuple[str, str], ...] = ()


NO_PROPERTIES = PublishProperties()
"""The shared empty property set (frozen, so one instance serves every message without properties)."""


@dataclass(frozen=True)
class Publisher:
    """Who sent a message: an MQTT client, or an HTTP/rules publish (client_id None, `clientid()` = "n/a")."""

    client_id: str | None = None
    principal: str | None = None
    source_ip: str | None = None
    trace_id: str | None = None  # set for MQTT publishes only (`traceid()` is Undefined otherwise)


@dataclass(frozen=True)
class Message:
    """One application message as accepted by the broker."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: PublishProperties = NO_PROPERTIES
    publisher: Publisher = field(default_factory=Publisher)
    received_at: float = field(default_factory=time.time)


def new_trace_id() -> str:
    """A fresh trace id for an MQTT publish."""
    return str(uuid.uuid4())
