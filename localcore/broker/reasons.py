"""MQTT reason codes as enums, so logs and errors say `NOT_AUTHORIZED` instead of `0x87`.

MQTT 5.0 section 2.4 (reason codes) and MQTT 3.1.1 section 3.2.2.3 (CONNACK return codes).
"""

from __future__ import annotations

from enum import IntEnum


class RC(IntEnum):
    """The MQTT 5 reason codes the broker sends or names in its errors."""

    SUCCESS = 0x00
    GRANTED_QOS_1 = 0x01
    DISCONNECT_WITH_WILL = 0x04
    NO_SUBSCRIPTION_EXISTED = 0x11
    UNSPECIFIED = 0x80
    MALFORMED = 0x81
    PROTOCOL_ERROR = 0x82
    IMPLEMENTATION_SPECIFIC = 0x83
    UNSUPPORTED_PROTOCOL_VERSION = 0x84
    CLIENT_ID_NOT_VALID = 0x85
    BAD_USERNAME_OR_PASSWORD = 0x86
    NOT_AUTHORIZED = 0x87
    SERVER_UNAVAILABLE = 0x88
    SERVER_BUSY = 0x89
    SERVER_SHUTTING_DOWN = 0x8B
    KEEP_ALIVE_TIMEOUT = 0x8D
    SESSION_TAKEN_OVER = 0x8E
    TOPIC_FILTER_INVALID = 0x8F
    TOPIC_NAME_INVALID = 0x90
    RECEIVE_MAXIMUM_EXCEEDED = 0x93
    TOPIC_ALIAS_INVALID = 0x94
    PACKET_TOO_LARGE = 0x95
    QUOTA_EXCEEDED = 0x97
    ADMINISTRATIVE_ACTION = 0x98
    QOS_NOT_SUPPORTED = 0x9B
    SUBSCRIPTION_IDS_NOT_SUPPORTED = 0xA1


class Connack311(IntEnum):
    """MQTT 3.1.1 CONNACK return codes (3.1.1 has no reason codes anywhere else)."""

    ACCEPTED = 0
    UNACCEPTABLE_PROTOCOL_VERSION = 1
    IDENTIFIER_REJECTED = 2
    SERVER_UNAVAILABLE = 3
    BAD_USERNAME_OR_PASSWORD = 4
    NOT_AUTHORIZED = 5


SUBACK_FAILURE_311 = 0x80
"""MQTT 3.1.1 SUBACK return code "Failure" (the only refusal 3.1.1 can express per filter)."""

_CONNACK_311: dict[int, Connack311] = {
    RC.UNSUPPORTED_PROTOCOL_VERSION: Connack311.UNACCEPTABLE_PROTOCOL_VERSION,
    RC.CLIENT_ID_NOT_VALID: Connack311.IDENTIFIER_REJECTED,
    RC.BAD_USERNAME_OR_PASSWORD: Connack311.BAD_USERNAME_OR_PASSWORD,
    RC.NOT_AUTHORIZED: Connack311.NOT_AUTHORIZED,
    RC.SERVER_UNAVAILABLE: Connack311.SERVER_UNAVAILABLE,
    RC.SERVER_BUSY: Connack311.SERVER_UNAVAILABLE,
    RC.QUOTA_EXCEEDED: Connack311.SERVER_UNAVAILABLE,
}


def connack_311(code: int) -> Connack311:
    """The 3.1.1 CONNACK return code closest to an MQTT 5 refusal (anything else: not authorized)."""
    return _CONNACK_311.get(code, Connack311.NOT_AUTHORIZED)


def describe(code: int) -> str:
    """`NOT_AUTHORIZED (0x87)` for a known code, `0x42` for any other."""
    try:
        return f"{RC(code).name} (0x{code:02X})"
    except ValueError:
        return f"0x{code:02X}"
