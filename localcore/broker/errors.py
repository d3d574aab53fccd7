"""Errors raised inside the broker; every one carries the MQTT 5 reason code that describes it."""

from __future__ import annotations

from localcore.broker.reasons import describe
from localcore.errors import LocalcoreError


class BrokerError(LocalcoreError):
    """Root of the broker's errors."""


class ProtocolError(BrokerError):
    """A malformed packet or a protocol violation: the connection is closed (MQTT 5: DISCONNECT first)."""

    def __init__(self, reason_code: int, detail: str) -> None:
        super().__init__(f"{detail} (reason {describe(reason_code)})")
        self.reason_code = reason_code
        self.detail = detail


class InvalidTopic(BrokerError):
    """A topic name or filter that breaks MQTT syntax or AWS IoT limits."""

    def __init__(self, topic: str, detail: str) -> None:
        super().__init__(f"invalid topic {topic!r}: {detail}")
        self.topic = topic
        self.detail = detail
