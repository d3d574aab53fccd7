"""Retained messages: one per topic; an empty retained payload deletes it (AWS mqtt.html, "Retained").

The store implements localcore's snapshot protocol (`localcore/persistence/protocol.py`), so retained
messages survive a restart with `iotstream up --persist`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from typing import Any

from localcore.broker.message import Message, Publisher, PublishProperties


def expired(message: Message, now: float) -> bool:
    """MQTT 5 Message Expiry applies to stored and retained messages."""
    interval = message.properties.message_expiry_interval
    return interval is not None and now - message.received_at >= interval


class RetainedStore:
    """Topic → last retained message."""

    def __init__(self) -> None:
        self._messages: dict[str, Message] = {}
        self._listeners: list[Callable[[], None]] = []

    def apply(self, message: Message) -> None:
        """Store a retained publish, or delete the topic's retained message when the payload is empty."""
        if message.payload:
            self._messages[message.topic] = message
        elif self._messages.pop(message.topic, None) is None:
            return
        for listener in self._listeners:
            listener()

    def get(self, topic: str) -> Message | None:
        message = self._messages.get(topic)
        if message is not None and expired(message, time.time()):
            del self._messages[topic]
            return None
        return message

    def __len__(self) -> int:
        return len(self._messages)

    # snapshot protocol ------------------------------------------------------------------------------
    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def to_snapshot(self) -> dict[str, Any]:
        """Every retained message not yet expired: payload base64, properties, publisher, arrival time."""
        now = time.time()
        return {
            "messages": [
                _message_record(message) for message in self._messages.values() if not expired(message, now)
            ]
        }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Retained messages keep their arrival time, so MQTT 5 Message Expiry counts from the first publish."""
        now = time.time()
        for record in snapshot.get("messages", []):
            message = _message_from(record)
            if not expired(message, now):
                self._messages.setdefault(message.topic, message)


def _message_record(message: Message) -> dict[str, Any]:
    props, publisher = message.properties, message.publisher
    return {
        "topic": message.topic,
        "payload": base64.b64encode(message.payload).decode(),
        "qos": message.qos,
        "received_at": message.received_at,
        "properties": {
            "payload_format_indicator": props.payload_format_indicator,
            "message_expiry_interval": props.message_expiry_interval,
            "content_type": props.content_type,
            "response_topic": props.response_topic,
            "correlation_data": None
            if props.correlation_data is None
            else base64.b64encode(props.correlation_data).decode(),
            "user_properties": [list(pair) for pair in props.user_properties],
        },
        "publisher": {
            "client_id": publisher.client_id,
            "principal": publisher.principal,
            "source_ip": publisher.source_ip,
        },
    }


def _message_from(record: Mapping[str, Any]) -> Message:
    props = record.get("properties", {})
    correlation = props.get("correlation_data")
    publisher = record.get("publisher", {})
    return Message(
        topic=str(record["topic"]),
        payload=base64.b64decode(record["payload"]),
        qos=int(record.get("qos", 0)),
        retain=True,
        properties=PublishProperties(
            payload_format_indicator=props.get("payload_format_indicator"),
            message_expiry_interval=props.get("message_expiry_interval"),
            content_type=props.get("content_type"),
            response_topic=props.get("response_topic"),
            correlation_data=None if correlation is None else base64.b64decode(correlation),
            user_properties=tuple((str(k), str(v)) for k, v in props.get("user_properties", [])),
        ),
        publisher=Publisher(
            publisher.get("client_id"), publisher.get("principal"), publisher.get("source_ip")
        ),
        received_at=float(record["received_at"]),
    )
