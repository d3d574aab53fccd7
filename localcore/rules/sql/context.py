"""What the rules engine knows about the message being evaluated."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

DEFAULT_ACCOUNT_ID = "123456789012"


class _Properties(Protocol):
    @property
    def payload_format_indicator(self) -> int | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def response_topic(self) -> str | None: ...
    @property
    def correlation_data(self) -> bytes | None: ...
    @property
    def user_properties(self) -> tuple[tuple[str, str], ...]: ...


class _Publisher(Protocol):
    @property
    def client_id(self) -> str | None: ...
    @property
    def principal(self) -> str | None: ...
    @property
    def source_ip(self) -> str | None: ...
    @property
    def trace_id(self) -> str | None: ...


class BrokerMessage(Protocol):
    """The shape of `localcore.broker.message.Message` (not imported: the SQL package stays independent)."""

    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def properties(self) -> _Properties: ...
    @property
    def publisher(self) -> _Publisher: ...
    @property
    def received_at(self) -> float: ...


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class SqlContext:
    """The triggering message plus its metadata (shaped after `localcore.broker.message.Message`).

    `client_id` None means "not sent over MQTT" (`clientid()` = "n/a"); `trace_id` None makes
    `traceid()` Undefined. `timestamp_ms` None makes `timestamp()` read `now_ms()` (injectable,
    like `new_uuid`, for deterministic tests).
    """

    topic: str
    payload: bytes
    client_id: str | None = None
    principal: str | None = None
    trace_id: str | None = None
    timestamp_ms: int | None = None
    source_ip: str | None = None
    content_type: str | None = None
    payload_format_indicator: int | None = None
    response_topic: str | None = None
    correlation_data: bytes | None = None
    user_properties: tuple[tuple[str, str], ...] = ()
    account_id: str = DEFAULT_ACCOUNT_ID
    now_ms: Callable[[], int] = _now_ms
    new_uuid: Callable[[], str] = _new_uuid

    @classmethod
    def from_message(cls, message: BrokerMessage, account_id: str = DEFAULT_ACCOUNT_ID) -> SqlContext:
        """The context for a broker message; `timestamp()` is the time the broker received it."""
        props, publisher = message.properties, message.publisher
        return cls(
            topic=message.topic,
            payload=message.payload,
            client_id=publisher.client_id,
            principal=publisher.principal,
            trace_id=publisher.trace_id,
            timestamp_ms=int(message.received_at * 1000),
            source_ip=publisher.source_ip,
            content_type=props.content_type,
            payload_format_indicator=props.payload_format_indicator,
            response_topic=props.response_topic,
            correlation_data=props.correlation_data,
            user_properties=props.user_properties,
            account_id=account_id,
        )


MessageContext = SqlContext
