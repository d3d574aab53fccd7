"""What the rules engine knows about the message being evaluated."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_ACCOUNT_ID = "123456789012"


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


MessageContext = SqlContext
