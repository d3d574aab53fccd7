"""MQTT 3.1.1 and 5.0 packets: strict decoding of what clients send, encoding of what the broker sends.

Decoding works on whole packets cut out of the byte stream by `PacketSplitter`; anything malformed raises
`ProtocolError` with the MQTT 5 reason code that names the problem (0x81 malformed, 0x82 protocol error, ...).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from localcore.broker.errors import ProtocolError
from localcore.broker.reasons import RC as RC


class PacketType(IntEnum):
    """MQTT control packet types (the upper nibble of a packet's first byte)."""

    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14
    AUTH = 15


# The members under their short names (`codec.PUBLISH`), as raw-socket tests and tools spell them.
CONNECT, CONNACK, PUBLISH = PacketType.CONNECT, PacketType.CONNACK, PacketType.PUBLISH
PUBACK, PUBREC, PUBREL, PUBCOMP = PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBREL, PacketType.PUBCOMP
SUBSCRIBE, SUBACK = PacketType.SUBSCRIBE, PacketType.SUBACK
UNSUBSCRIBE, UNSUBACK = PacketType.UNSUBSCRIBE, PacketType.UNSUBACK
PINGREQ, PINGRESP = PacketType.PINGREQ, PacketType.PINGRESP
DISCONNECT, AUTH = PacketType.DISCONNECT, PacketType.AUTH

MQTT311 = 4
MQTT5 = 5

# Property identifiers.
P_PAYLOAD_FORMAT, P_MESSAGE_EXPIRY, P_CONTENT_TYPE, P_RESPONSE_TOPIC = 0x01, 0x02, 0x03, 0x08
P_CORRELATION_DATA, P_SUBSCRIPTION_ID, P_SESSION_EXPIRY, P_ASSIGNED_CLIENT_ID = 0x09, 0x0B, 0x11, 0x12
P_SERVER_KEEP_ALIVE, P_AUTH_METHOD, P_AUTH_DATA, P_REQUEST_PROBLEM_INFO = 0x13, 0x15, 0x16, 0x17
P_WILL_DELAY, P_REQUEST_RESPONSE_INFO, P_RESPONSE_INFO, P_SERVER_REFERENCE = 0x18, 0x19, 0x1A, 0x1C
P_REASON_STRING, P_RECEIVE_MAXIMUM, P_TOPIC_ALIAS_MAXIMUM, P_TOPIC_ALIAS = 0x1F, 0x21, 0x22, 0x23
P_MAXIMUM_QOS, P_RETAIN_AVAILABLE, P_USER_PROPERTY, P_MAXIMUM_PACKET_SIZE = 0x24, 0x25, 0x26, 0x27
P_WILDCARD_SUB_AVAILABLE, P_SUB_ID_AVAILABLE, P_SHARED_SUB_AVAILABLE = 0x28, 0x29, 0x2A

_PROPERTY_TYPES: dict[int, str] = {
    P_PAYLOAD_FORMAT: "byte", P_MESSAGE_EXPIRY: "int4", P_CONTENT_TYPE: "str", P_RESPONSE_TOPIC: "str",
    P_CORRELATION_DATA: "bin", P_SUBSCRIPTION_ID: "varint", P_SESSION_EXPIRY: "int4",
    P_ASSIGNED_CLIENT_ID: "str", P_SERVER_KEEP_ALIVE: "int2", P_AUTH_METHOD: "str", P_AUTH_DATA: "bin",
    P_REQUEST_PROBLEM_INFO: "byte", P_WILL_DELAY: "int4", P_REQUEST_RESPONSE_INFO: "byte",
    P_RESPONSE_INFO: "str", P_SERVER_REFERENCE: "str", P_REASON_STRING: "str", P_RECEIVE_MAXIMUM: "int2",
    P_TOPIC_ALIAS_MAXIMUM: "int2", P_TOPIC_ALIAS: "int2", P_MAXIMUM_QOS: "byte", P_RETAIN_AVAILABLE: "byte",
    P_USER_PROPERTY: "pair", P_MAXIMUM_PACKET_SIZE: "int4", P_WILDCARD_SUB_AVAILABLE: "byte",
    P_SUB_ID_AVAILABLE: "byte", P_SHARED_SUB_AVAILABLE: "byte",
}  # fmt: skip

# Which properties a client may send in each packet (MQTT 5 section 2.2.2.2).
_ALLOWED: dict[str, frozenset[int]] = {
    "connect": frozenset({P_SESSION_EXPIRY, P_RECEIVE_MAXIMUM, P_MAXIMUM_PACKET_SIZE, P_TOPIC_ALIAS_MAXIMUM,
                          P_REQUEST_RESPONSE_INFO, P_REQUEST_PROBLEM_INFO, P_USER_PROPERTY, P_AUTH_METHOD,
                          P_AUTH_DATA}),
    "will": frozenset({P_WILL_DELAY, P_PAYLOAD_FORMAT, P_MESSAGE_EXPIRY, P_CONTENT_TYPE, P_RESPONSE_TOPIC,
                       P_CORRELATION_DATA, P_USER_PROPERTY}),
    "publish": frozenset({P_PAYLOAD_FORMAT, P_MESSAGE_EXPIRY, P_TOPIC_ALIAS, P_RESPONSE_TOPIC,
                          P_CORRELATION_DATA, P_USER_PROPERTY, P_SUBSCRIPTION_ID, P_CONTENT_TYPE}),
    "ack": frozenset({P_REASON_STRING, P_USER_PROPERTY}),
    "subscribe": frozenset({P_SUBSCRIPTION_ID, P_USER_PROPERTY}),
    "unsubscribe": frozenset({P_USER_PROPERTY}),
    "disconnect": frozenset({P_SESSION_EXPIRY, P_REASON_STRING, P_USER_PROPERTY, P_SERVER_REFERENCE}),
}  # fmt: skip

Properties = dict[int, Any]  # user properties (0x26) are a list of (name, value) pairs


@dataclass(slots=True)
class Will:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: Properties = field(default_factory=dict)


@dataclass(slots=True)
class Connect:
    protocol_level: int
    clean_start: bool
    keep_alive: int
    client_id: str
    username: str | None
    password: bytes | None
    will: Will | None
    properties: Properties = field(default_factory=dict)


@dataclass(slots=True)
class Publish:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    packet_id: int
    properties: Properties


@dataclass(slots=True)
class Puback:
    packet_id: int
    reason_code: int = 0


@dataclass(slots=True)
class Subscribe:
    packet_id: int
    requests: list[tuple[str, int]]  # (filter, options byte)
    properties: Properties


@dataclass(slots=True)
class Unsubscribe:
    packet_id: int
    filters: list[str]
    properties: Properties


@dataclass(slots=True)
class Pingreq:
    pass


@dataclass(slots=True)
class Disconnect:
    reason_code: int = 0
    properties: Properties = field(default_factory=dict)


Packet = Connect | Publish | Puback | Subscribe | Unsubscribe | Pingreq | Disconnect


# ----------------------------------------------------------------------------------------------- framing


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class PacketSplitter:
    """Cuts a byte stream into (first byte, body) packets; enforces the maximum packet size."""

    __slots__ = ("_buffer", "max_packet_size")

    def __init__(self, max_packet_size: int) -> None:
        self._buffer = bytearray()
        self.max_packet_size = max_packet_size

    @property
    def pending(self) -> bool:
        """Whether part of a packet is waiting for the rest."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer
        buffer += data
        packets: list[tuple[int, bytes]] = []
        pos = 0
        size = len(buffer)
        while size - pos >= 2:
            length, shift, index, complete = 0, 0, pos + 1, False
            for _ in range(4):
                if index >= size:
                    break
                byte = buffer[index]
                index += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    complete = True
                    break
            else:
                raise ProtocolError(RC.MALFORMED, "remaining length longer than 4 bytes")
            if not complete:
                break
            total = index - pos + length
            if total > self.max_packet_size:
                raise ProtocolError(RC.PACKET_TOO_LARGE, f"packet of {total} bytes over the maximum")
            if size - index < length:
                break
            packets.append((buffer[pos], bytes(buffer[index : index + length])))
            pos = index + length
        if pos:
            del buffer[:pos]
        return packets


# ----------------------------------------------------------------------------------------------- decoding


class _Cursor:
    """Reads MQTT primitives from one packet body, raising 0x81 on anything short or malformed."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError(RC.MALFORMED, "packet ends early")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def int2(self) -> int:
        if self.pos + 2 > len(self.data):
            raise ProtocolError(RC.MALFORMED, "packet ends early")
        value: int = struct.unpack_from("!H", self.data, self.pos)[0]
        self.pos += 2
        return value

    def int4(self) -> int:
        if self.pos + 4 > len(self.data):
            raise ProtocolError(RC.MALFORMED, "packet ends early")
        value: int = struct.unpack_from("!I", self.data, self.pos)[0]
        self.pos += 4
        return value

    def varint(self) -> int:
        value, multiplier = 0, 1
        for _ in range(4):
            byte = self.byte()
            value += (byte & 0x7F) * multiplier
            if not byte & 0x80:
                return value
            multiplier *= 128
        raise ProtocolError(RC.MALFORMED, "variable byte integer longer than 4 bytes")

    def binary(self) -> bytes:
        length = self.int2()
        if self.pos + length > len(self.data):
            raise ProtocolError(RC.MALFORMED, "string or binary runs past the packet")
        value = self.data[self.pos : self.pos + length]
        self.pos += length
        return value

    def string(self) -> str:
        raw = self.binary()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(RC.MALFORMED, "string is not valid UTF-8") from error
        if "\x00" in text:
            raise ProtocolError(RC.MALFORMED, "string contains U+0000")
        return text

    def rest(self) -> bytes:
        value = self.data[self.pos :]
        self.pos = len(self.data)
        return value

    def properties(self, kind: str) -> Properties:
        length = self.varint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError(RC.MALFORMED, "properties run past the packet")
        allowed = _ALLOWED[kind]
        props: Properties = {}
        while self.pos < end:
            ident = self.varint()
            kind_of = _PROPERTY_TYPES.get(ident)
            if kind_of is None or ident not in allowed:
                raise ProtocolError(RC.MALFORMED, f"property 0x{ident:02X} not allowed in {kind}")
            value: Any
            if kind_of == "byte":
                value = self.byte()
            elif kind_of == "int2":
                value = self.int2()
            elif kind_of == "int4":
                value = self.int4()
            elif kind_of == "varint":
                value = self.varint()
            elif kind_of == "str":
                value = self.string()
            elif kind_of == "bin":
                value = self.binary()
            else:
                value = (self.string(), self.string())
            if ident == P_USER_PROPERTY:
                props.setdefault(ident, []).append(value)
            elif ident in props:
                raise ProtocolError(RC.PROTOCOL_ERROR, f"property 0x{ident:02X} given twice")
            else:
                props[ident] = value
        if self.pos != end:
            raise ProtocolError(RC.MALFORMED, "property length mismatch")
        return props


def _fixed_flags(first: int, expected: int, name: str) -> None:
    if first & 0x0F != expected:
        raise ProtocolError(RC.MALFORMED, f"reserved flags of {name} must be {expected}")


def decode_connect(first: int, body: bytes) -> Connect:
    """Decode CONNECT; an unsupported protocol level raises 0x84 so the caller can answer it."""
    _fixed_flags(first, 0, "CONNECT")
    cur = _Cursor(body)
    name = cur.string()
    level = cur.byte()
    if name not in ("MQTT", "MQIsdp"):
        raise ProtocolError(RC.UNSUPPORTED_PROTOCOL_VERSION, f"unknown protocol name {name!r}")
    if level not in (MQTT311, MQTT5):
        raise ProtocolError(RC.UNSUPPORTED_PROTOCOL_VERSION, f"unsupported protocol level {level}")
    flags = cur.byte()
    if flags & 0x01:
        raise ProtocolError(RC.MALFORMED, "reserved CONNECT flag is set")
    keep_alive = cur.int2()
    props = cur.properties("connect") if level == MQTT5 else {}
    client_id = cur.string()
    will: Will | None = None
    will_qos = (flags >> 3) & 0x03
    if flags & 0x04:
        will_props = cur.properties("will") if level == MQTT5 else {}
        will_topic = cur.string()
        will_payload = cur.binary()
        if will_qos == 3:
            raise ProtocolError(RC.MALFORMED, "will QoS 3")
        will = Will(will_topic, will_payload, will_qos, bool(flags & 0x20), will_props)
    elif will_qos or flags & 0x20:
        raise ProtocolError(RC.MALFORMED, "will QoS/retain set without a will")
    username = cur.string() if flags & 0x80 else None
    if flags & 0x40:
        if level == MQTT311 and username is None:
            raise ProtocolError(RC.MALFORMED, "password without username")
        password: bytes | None = cur.binary()
    else:
        password = None
    if cur.remaining():
        raise ProtocolError(RC.MALFORMED, "trailing bytes after CONNECT payload")
    if level == MQTT5 and props.get(P_RECEIVE_MAXIMUM, 1) == 0:
        raise ProtocolError(RC.PROTOCOL_ERROR, "receive maximum 0")
    if level == MQTT5 and props.get(P_MAXIMUM_PACKET_SIZE, 1) == 0:
        raise ProtocolError(RC.PROTOCOL_ERROR, "maximum packet size 0")
    return Connect(level, bool(flags & 0x02), keep_alive, client_id, username, password, will, props)


def _decode_publish(first: int, body: bytes, level: int) -> Publish:
    qos = (first >> 1) & 0x03
    if qos == 3:
        raise ProtocolError(RC.MALFORMED, "PUBLISH with QoS 3")
    dup = bool(first & 0x08)
    if dup and qos == 0:
        raise ProtocolError(RC.MALFORMED, "DUP set on a QoS 0 PUBLISH")
    cur = _Cursor(body)
    topic = cur.string()
    packet_id = cur.int2() if qos else 0
    if qos and packet_id == 0:
        raise ProtocolError(RC.MALFORMED, "packet identifier 0")
    props = cur.properties("publish") if level == MQTT5 else {}
    return Publish(topic, cur.rest(), qos, bool(first & 0x01), dup, packet_id, props)


def _decode_puback(first: int, body: bytes, level: int) -> Puback:
    _fixed_flags(first, 0, "PUBACK")
    cur = _Cursor(body)
    packet_id = cur.int2()
    code = 0
    if level == MQTT5 and cur.remaining():
        code = cur.byte()
        if cur.remaining():
            cur.properties("ack")
    if cur.remaining():
        raise ProtocolError(RC.MALFORMED, "trailing bytes after PUBACK")
    return Puback(packet_id, code)


def _subscription_head(first: int, body: bytes, level: int, kind: str) -> tuple[_Cursor, int, Properties]:
    """(UN)SUBSCRIBE: flags 0b0010, a non-zero packet identifier, MQTT 5 properties; the cursor at the payload."""
    _fixed_flags(first, 2, kind.upper())
    cur = _Cursor(body)
    packet_id = cur.int2()
    if packet_id == 0:
        raise ProtocolError(RC.MALFORMED, "packet identifier 0")
    props = cur.properties(kind) if level == MQTT5 else {}
    return cur, packet_id, props


def _decode_subscribe(first: int, body: bytes, level: int) -> Subscribe:
    cur, packet_id, props = _subscription_head(first, body, level, "subscribe")
    requests: list[tuple[str, int]] = []
    reserved = 0xC0 if level == MQTT5 else 0xFC
    while cur.remaining():
        topic_filter = cur.string()
        options = cur.byte()
        if options & reserved or options & 0x03 == 3 or (options >> 4) & 0x03 == 3:
            raise ProtocolError(RC.MALFORMED, "invalid subscription options")
        requests.append((topic_filter, options))
    if not requests:
        raise ProtocolError(RC.PROTOCOL_ERROR, "SUBSCRIBE without topic filters")
    return Subscribe(packet_id, requests, props)


def _decode_unsubscribe(first: int, body: bytes, level: int) -> Unsubscribe:
    cur, packet_id, props = _subscription_head(first, body, level, "unsubscribe")
    filters: list[str] = []
    while cur.remaining():
        filters.append(cur.string())
    if not filters:
        raise ProtocolError(RC.PROTOCOL_ERROR, "UNSUBSCRIBE without topic filters")
    return Unsubscribe(packet_id, filters, props)


def _decode_pingreq(first: int, body: bytes, level: int) -> Pingreq:
    _fixed_flags(first, 0, "PINGREQ")
    if body:
        raise ProtocolError(RC.MALFORMED, "PINGREQ with a body")
    return Pingreq()


def _decode_disconnect(first: int, body: bytes, level: int) -> Disconnect:
    _fixed_flags(first, 0, "DISCONNECT")
    if level == MQTT311 or not body:
        if body:
            raise ProtocolError(RC.MALFORMED, "DISCONNECT with a body")
        return Disconnect()
    cur = _Cursor(body)
    code = cur.byte()
    props = cur.properties("disconnect") if cur.remaining() else {}
    if cur.remaining():
        raise ProtocolError(RC.MALFORMED, "trailing bytes after DISCONNECT")
    return Disconnect(code, props)


def _refused(code: RC, detail: str) -> Callable[[int, bytes, int], Packet]:
    """A decoder for a packet type the broker refuses whatever its content."""

    def refuse(first: int, body: bytes, level: int) -> Packet:
        raise ProtocolError(code, detail)

    return refuse


_QOS2_FLOW = _refused(RC.QOS_NOT_SUPPORTED, "QoS 2 flow packets are not supported")

_DECODERS: dict[int, Callable[[int, bytes, int], Packet]] = {
    PUBLISH: _decode_publish,
    PUBACK: _decode_puback,
    SUBSCRIBE: _decode_subscribe,
    UNSUBSCRIBE: _decode_unsubscribe,
    PINGREQ: _decode_pingreq,
    DISCONNECT: _decode_disconnect,
    CONNECT: _refused(RC.PROTOCOL_ERROR, "second CONNECT on one connection"),
    PUBREC: _QOS2_FLOW,
    PUBREL: _QOS2_FLOW,
    PUBCOMP: _QOS2_FLOW,
    AUTH: _refused(RC.PROTOCOL_ERROR, "AUTH is not supported"),
}
"""What a client may send after CONNECT, by packet type; the other types are the server's own."""


def decode(first: int, body: bytes, level: int) -> Packet:
    """Decode any packet a client may send after CONNECT."""
    decoder = _DECODERS.get(first >> 4)
    if decoder is None:
        raise ProtocolError(RC.MALFORMED, f"packet type {first >> 4} is not sent by clients")
    return decoder(first, body, level)


# ----------------------------------------------------------------------------------------------- encoding


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def _binary(raw: bytes) -> bytes:
    return struct.pack("!H", len(raw)) + raw


def encode_properties(props: Properties) -> bytes:
    out = bytearray()
    for ident, value in props.items():
        kind = _PROPERTY_TYPES[ident]
        if kind == "pair":
            for name, val in value:
                out += bytes((ident,)) + _string(name) + _string(val)
            continue
        out.append(ident)
        if kind == "byte":
            out.append(value)
        elif kind == "int2":
            out += struct.pack("!H", value)
        elif kind == "int4":
            out += struct.pack("!I", value)
        elif kind == "varint":
            out += encode_varint(value)
        elif kind == "str":
            out += _string(value)
        else:
            out += _binary(value)
    return encode_varint(len(out)) + bytes(out)


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + encode_varint(len(body)) + body


def encode_connack(level: int, session_present: bool, code: int, props: Properties | None = None) -> bytes:
    body = bytes((1 if session_present else 0, code))
    if level == MQTT5:
        body += encode_properties(props or {})
    return _packet(CONNACK << 4, body)


def encode_puback(level: int, packet_id: int, code: int = 0) -> bytes:
    if level == MQTT5 and code:
        return _packet(PUBACK << 4, struct.pack("!HB", packet_id, code))
    return _packet(PUBACK << 4, struct.pack("!H", packet_id))


def encode_suback(level: int, packet_id: int, codes: list[int]) -> bytes:
    body = struct.pack("!H", packet_id) + (b"\x00" if level == MQTT5 else b"") + bytes(codes)
    return _packet(SUBACK << 4, body)


def encode_unsuback(level: int, packet_id: int, codes: list[int]) -> bytes:
    body = struct.pack("!H", packet_id)
    if level == MQTT5:
        body += b"\x00" + bytes(codes)
    return _packet(UNSUBACK << 4, body)


PINGRESP_BYTES = bytes((PINGRESP << 4, 0))


def encode_disconnect(code: int, reason: str | None = None) -> bytes:
    """MQTT 5 DISCONNECT from the server (MQTT 3.1.1 servers never send DISCONNECT)."""
    props: Properties = {P_REASON_STRING: reason} if reason else {}
    return _packet(DISCONNECT << 4, bytes((code,)) + encode_properties(props))


def encode_publish_parts(
    level: int, topic: str, payload: bytes, qos: int, retain: bool, props: Properties, dup: bool = False
) -> tuple[bytes, bytes]:
    """A PUBLISH split around its packet identifier: `head + pid + tail` (QoS 1) or `head + tail` (QoS 0).

    The broker encodes each message once per (version, QoS, retain), then inserts each receiver's packet id.
    """
    topic_bytes = _string(topic)
    tail = (encode_properties(props) if level == MQTT5 else b"") + payload
    length = len(topic_bytes) + len(tail) + (2 if qos else 0)
    first = (PUBLISH << 4) | (qos << 1) | (1 if retain else 0) | (0x08 if dup else 0)
    return bytes((first,)) + encode_varint(length) + topic_bytes, tail


# Client-side encoders, used by tests and raw-socket tools.


def encode_connect(
    client_id: str,
    level: int = MQTT311,
    keep_alive: int = 60,
    clean_start: bool = True,
    username: str | None = None,
    props: Properties | None = None,
) -> bytes:
    flags = (0x02 if clean_start else 0) | (0x80 if username is not None else 0)
    body = _string("MQTT") + bytes((level, flags)) + struct.pack("!H", keep_alive)
    if level == MQTT5:
        body += encode_properties(props or {})
    body += _string(client_id)
    if username is not None:
        body += _string(username)
    return _packet(CONNECT << 4, body)


def encode_subscribe(packet_id: int, filters: list[tuple[str, int]], level: int = MQTT311) -> bytes:
    body = struct.pack("!H", packet_id) + (b"\x00" if level == MQTT5 else b"")
    for topic_filter, options in filters:
        body += _string(topic_filter) + bytes((options,))
    return _packet((SUBSCRIBE << 4) | 2, body)


def encode_unsubscribe(packet_id: int, filters: list[str], level: int = MQTT311) -> bytes:
    body = struct.pack("!H", packet_id) + (b"\x00" if level == MQTT5 else b"")
    for topic_filter in filters:
        body += _string(topic_filter)
    return _packet((UNSUBSCRIBE << 4) | 2, body)


def encode_publish(
    topic: str, payload: bytes, qos: int = 0, packet_id: int = 0, level: int = MQTT311
) -> bytes:
    head, tail = encode_publish_parts(level, topic, payload, qos, False, {})
    return head + (struct.pack("!H", packet_id) if qos else b"") + tail
