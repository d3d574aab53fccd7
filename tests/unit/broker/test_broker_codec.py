"""MQTT packet codec: strict decoding (MQTT 3.1.1 / 5.0 specs) and the broker's encoders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcore.broker import codec
from localcore.broker.codec import RC
from localcore.broker.errors import ProtocolError


def split_one(data: bytes) -> tuple[int, bytes]:
    packets = codec.PacketSplitter(1 << 20).feed(data)
    assert len(packets) == 1
    return packets[0]


def test_connect_round_trip_mqtt5_with_properties():
    """MQTT 5 §3.1: CONNECT carries properties before the payload; the decoder reads them back."""
    raw = codec.encode_connect("dev-1", codec.MQTT5, 45, False, "alice", {codec.P_SESSION_EXPIRY: 600})
    connect = codec.decode_connect(*split_one(raw))
    assert (connect.client_id, connect.username, connect.keep_alive) == ("dev-1", "alice", 45)
    assert connect.clean_start is False
    assert connect.properties == {codec.P_SESSION_EXPIRY: 600}


def test_unsupported_protocol_level_is_reported_as_0x84():
    """MQTT 3.1.1 §3.1.2.2: an unsupported level is answered with CONNACK return code 1."""
    raw = bytearray(codec.encode_connect("x", codec.MQTT311))
    raw[8] = 3  # protocol level byte
    with pytest.raises(ProtocolError) as error:
        codec.decode_connect(*split_one(bytes(raw)))
    assert error.value.reason_code == RC.UNSUPPORTED_PROTOCOL_VERSION


def test_publish_decodes_properties_and_rejects_qos3():
    """MQTT 5 §3.3.1.2: QoS 3 is malformed."""
    head, tail = codec.encode_publish_parts(
        codec.MQTT5, "a/b", b"hi", 1, True, {codec.P_CONTENT_TYPE: "text"}
    )
    first, body = split_one(head + b"\x00\x07" + tail)
    packet = codec.decode(first, body, codec.MQTT5)
    assert isinstance(packet, codec.Publish)
    assert (packet.topic, packet.payload, packet.qos, packet.retain, packet.packet_id) == (
        "a/b",
        b"hi",
        1,
        True,
        7,
    )
    assert packet.properties == {codec.P_CONTENT_TYPE: "text"}
    with pytest.raises(ProtocolError):
        codec.decode(first | 0x06, body, codec.MQTT5)


def test_duplicate_property_is_a_protocol_error():
    """MQTT 5 §2.2.2.2: a property other than User Property may appear once."""
    props = bytes([codec.P_CONTENT_TYPE]) + b"\x00\x01a" + bytes([codec.P_CONTENT_TYPE]) + b"\x00\x01b"
    body = b"\x00\x01t" + codec.encode_varint(len(props)) + props
    with pytest.raises(ProtocolError) as error:
        codec.decode(codec.PUBLISH << 4, body, codec.MQTT5)
    assert error.value.reason_code == RC.PROTOCOL_ERROR


def test_invalid_utf8_topic_is_malformed():
    """MQTT §1.5.3: strings must be well-formed UTF-8 without U+0000."""
    for topic in (b"\xff\xfe", b"a\x00b"):
        body = len(topic).to_bytes(2, "big") + topic
        with pytest.raises(ProtocolError) as error:
            codec.decode(codec.PUBLISH << 4, body, codec.MQTT311)
        assert error.value.reason_code == RC.MALFORMED


def test_qos2_flow_packets_are_refused():
    """AWS IoT does not support PUBREC/PUBREL/PUBCOMP (mqtt.html, differences from the spec)."""
    with pytest.raises(ProtocolError) as error:
        codec.decode((codec.PUBREL << 4) | 2, b"\x00\x01", codec.MQTT5)
    assert error.value.reason_code == RC.QOS_NOT_SUPPORTED


def test_subscribe_reserved_option_bits_are_malformed():
    """MQTT 5 §3.8.3.1: reserved bits of the subscription options must be 0."""
    raw = codec.encode_subscribe(1, [("a", 0xC1)], codec.MQTT5)
    with pytest.raises(ProtocolError):
        codec.decode(*split_one(raw), codec.MQTT5)


def test_splitter_handles_fragments_and_rejects_oversize():
    """Packets arrive in arbitrary TCP fragments; an oversized packet is refused with 0x95."""
    data = codec.encode_publish("t", b"x" * 300) * 3
    splitter = codec.PacketSplitter(1000)
    packets = []
    for index in range(0, len(data), 7):
        packets += splitter.feed(data[index : index + 7])
    assert len(packets) == 3
    with pytest.raises(ProtocolError) as error:
        codec.PacketSplitter(100).feed(codec.encode_publish("t", b"x" * 300))
    assert error.value.reason_code == RC.PACKET_TOO_LARGE


def test_five_byte_remaining_length_is_malformed():
    """MQTT §2.2.3: the remaining length is at most 4 bytes."""
    with pytest.raises(ProtocolError):
        codec.PacketSplitter(1 << 30).feed(b"\x30\xff\xff\xff\xff\x01")


@given(st.binary(max_size=64))
def test_decoder_never_fails_with_anything_but_protocol_error(data: bytes):
    """Robustness: arbitrary bytes either decode or raise ProtocolError, never another exception."""
    for level in (codec.MQTT311, codec.MQTT5):
        for first in (0x10, 0x30, 0x32, 0x40, 0x82, 0xA2, 0xC0, 0xE0):
            try:
                if first == 0x10:
                    codec.decode_connect(first, data)
                else:
                    codec.decode(first, data, level)
            except ProtocolError:
                pass
