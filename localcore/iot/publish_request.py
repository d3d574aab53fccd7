"""Parse an iot-data `Publish` HTTP request (`POST /topics/{topic}`) into a broker Message.

boto3 percent-encodes every `/` of the topic as `%2F`; hand-written callers may not. MQTT 5 settings
arrive as query parameters (qos, retain, contentType, responseTopic, messageExpiry) and headers
(x-amz-mqtt5-user-properties: base64 JSON array of one-pair objects — boto3 takes it as a Python list;
given a JSON string it encodes a JSON string literal, which is accepted too; payload format indicator;
correlation data, already base64).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from urllib.parse import unquote

from localcore.broker.message import Message, Publisher, PublishProperties
from localcore.iot.exceptions import InvalidRequestException, RequestEntityTooLargeException

MAX_PAYLOAD = 128 * 1024


def topic_from_path(raw_path: str) -> str:
    """`/topics/chat%2Fu%2Fresponse` or `/topics/chat/u/response` -> `chat/u/response`."""
    prefix = "/topics/"
    if not raw_path.startswith(prefix) or len(raw_path) == len(prefix):
        raise InvalidRequestException("the path must be /topics/{topic}")
    return unquote(raw_path[len(prefix) :])


def _flag(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidRequestException(f"{name} must be true or false")


def _user_properties(header: str | None) -> tuple[tuple[str, str], ...]:
    if not header:
        return ()
    try:
        decoded = json.loads(base64.b64decode(header, validate=True))
        if isinstance(decoded, str):  # boto3 given a JSON *string* json.dumps it once more: accept that too
            decoded = json.loads(decoded)
    except (binascii.Error, ValueError, RecursionError) as error:
        raise InvalidRequestException("x-amz-mqtt5-user-properties must be base64-encoded JSON") from error
    if not isinstance(decoded, list) or not all(isinstance(item, dict) for item in decoded):
        raise InvalidRequestException("user properties must be a JSON array of objects")
    return tuple((str(key), str(value)) for item in decoded for key, value in item.items())


def parse_publish(
    raw_path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes, principal: str
) -> Message:
    """Build the Message a valid Publish request describes, or raise InvalidRequestException (RequestEntityTooLargeException
    over 128 KB)."""
    topic = topic_from_path(raw_path)
    qos_text = query.get("qos", "0")
    if qos_text not in ("0", "1"):
        raise InvalidRequestException("qos must be 0 or 1")
    if len(body) > MAX_PAYLOAD:
        raise RequestEntityTooLargeException(
            f"payload of {len(body)} bytes exceeds the {MAX_PAYLOAD}-byte limit"
        )
    indicator = headers.get("x-amz-mqtt5-payload-format-indicator")
    if indicator not in (None, "UNSPECIFIED_BYTES", "UTF8_DATA"):
        raise InvalidRequestException("payload format indicator must be UNSPECIFIED_BYTES or UTF8_DATA")
    correlation = headers.get("x-amz-mqtt5-correlation-data")
    expiry = query.get("messageExpiry")
    try:
        properties = PublishProperties(
            payload_format_indicator=None if indicator is None else int(indicator == "UTF8_DATA"),
            message_expiry_interval=int(expiry) if expiry is not None else None,
            content_type=query.get("contentType"),
            response_topic=query.get("responseTopic"),
            correlation_data=base64.b64decode(correlation, validate=True) if correlation else None,
            user_properties=_user_properties(headers.get("x-amz-mqtt5-user-properties")),
        )
    except (ValueError, binascii.Error) as error:
        raise InvalidRequestException(f"bad MQTT 5 property: {error}") from error
    if properties.response_topic and ("+" in properties.response_topic or "#" in properties.response_topic):
        raise InvalidRequestException("responseTopic must not contain wildcards")
    return Message(
        topic=topic,
        payload=body,
        qos=int(qos_text),
        retain=_flag(query.get("retain"), "retain"),
        properties=properties,
        publisher=Publisher(client_id=None, principal=principal),
    )
