"""AWS IoT lifecycle events (https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html).

`$aws/events/presence/connected|disconnected/<clientId>` and
`$aws/events/subscriptions/subscribed|unsubscribed/<clientId>`, JSON payloads with AWS's field names.
Client ids containing `#` or `+` produce no events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from enum import StrEnum

from localcore.broker.message import Message, Publisher


class DisconnectReason(StrEnum):
    """The `disconnectReason` values of the disconnected event."""

    AUTH_ERROR = "AUTH_ERROR"
    CLIENT_INITIATED_DISCONNECT = "CLIENT_INITIATED_DISCONNECT"
    CLIENT_ERROR = "CLIENT_ERROR"
    CONNECTION_LOST = "CONNECTION_LOST"
    DUPLICATE_CLIENTID = "DUPLICATE_CLIENTID"
    FORBIDDEN_ACCESS = "FORBIDDEN_ACCESS"
    MQTT_KEEP_ALIVE_TIMEOUT = "MQTT_KEEP_ALIVE_TIMEOUT"
    SERVER_ERROR = "SERVER_ERROR"
    SERVER_INITIATED_DISCONNECT = "SERVER_INITIATED_DISCONNECT"
    THROTTLED = "THROTTLED"
    WEBSOCKET_TTL_EXPIRATION = "WEBSOCKET_TTL_EXPIRATION"
    API_INITIATED_DISCONNECT = "API_INITIATED_DISCONNECT"


PRESENCE_PREFIX = "$aws/events/presence/"
SUBSCRIPTIONS_PREFIX = "$aws/events/subscriptions/"
_EVENT_PUBLISHER = Publisher(client_id=None, principal="localcore")


def emits_events(client_id: str) -> bool:
    return "#" not in client_id and "+" not in client_id


def _message(topic: str, body: dict[str, object]) -> Message:
    return Message(topic=topic, payload=json.dumps(body).encode(), qos=1, publisher=_EVENT_PUBLISHER)


def _now_ms() -> int:
    return int(time.time() * 1000)


def connected(client_id: str, session_id: str, principal: str, ip: str, version: int) -> Message:
    return _message(
        f"{PRESENCE_PREFIX}connected/{client_id}",
        {
            "clientId": client_id,
            "timestamp": _now_ms(),
            "eventType": "connected",
            "sessionIdentifier": session_id,
            "principalIdentifier": principal,
            "ipAddress": ip,
            "versionNumber": version,
        },
    )


def disconnected(
    client_id: str,
    session_id: str,
    principal: str,
    version: int,
    reason: DisconnectReason,
) -> Message:
    return _message(
        f"{PRESENCE_PREFIX}disconnected/{client_id}",
        {
            "clientId": client_id,
            "timestamp": _now_ms(),
            "eventType": "disconnected",
            "clientInitiatedDisconnect": reason is DisconnectReason.CLIENT_INITIATED_DISCONNECT,
            "sessionIdentifier": session_id,
            "principalIdentifier": principal,
            "disconnectReason": reason.value,
            "versionNumber": version,
        },
    )


def subscriptions(
    event: str, client_id: str, session_id: str, principal: str, topics: Sequence[str]
) -> Message:
    """`event` is "subscribed" or "unsubscribed"."""
    return _message(
        f"{SUBSCRIPTIONS_PREFIX}{event}/{client_id}",
        {
            "clientId": client_id,
            "timestamp": _now_ms(),
            "eventType": event,
            "sessionIdentifier": session_id,
            "principalIdentifier": principal,
            "topics": list(topics),
        },
    )
