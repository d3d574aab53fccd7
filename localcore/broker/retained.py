"""Retained messages: one per topic; an empty retained payload deletes it (AWS mqtt.html, "Retained")."""

from __future__ import annotations

import time

from localcore.broker.message import Message


def expired(message: Message, now: float) -> bool:
    """MQTT 5 Message Expiry applies to stored and retained messages."""
    interval = message.properties.message_expiry_interval
    return interval is not None and now - message.received_at >= interval


class RetainedStore:
    """Topic → last retained message."""

    def __init__(self) -> None:
        self._messages: dict[str, Message] = {}

    def apply(self, message: Message) -> None:
        """Store a retained publish, or delete the topic's retained message when the payload is empty."""
        if message.payload:
            self._messages[message.topic] = message
        else:
            self._messages.pop(message.topic, None)

    def get(self, topic: str) -> Message | None:
        message = self._messages.get(topic)
        if message is not None and expired(message, time.time()):
            del self._messages[topic]
            return None
        return message

    def __len__(self) -> int:
        return len(self._messages)
