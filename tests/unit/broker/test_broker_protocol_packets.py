"""The broker's MQTT protocol without sockets, after CONNECT: PUBLISH flows, SUBSCRIBE, malformed input, limits.

Two or more `Wire`s share one real `Broker` (the protocol's Router), so routing between clients is the broker's
own; assertions are on the exact bytes each client would read. AWS deviations from the MQTT specs are listed in
docs/broker.md; MQTT 5: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html.
"""

from __future__ import annotations

import pytest

from localcore.broker import codec
from localcore.broker.broker import Broker
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.limits import BrokerLimits
from localcore.broker.protocol import CLOSING, OPEN
from localcore.broker.testing import RuleAuthenticator
from tests.support.protocol_support import FakeClock, Wire

PUBLISH_QOS0 = b"\x30\x07\x00\x03a/bhi"  # PUBLISH QoS 0, topic "a/b", payload "hi" (MQTT 3.1.1)
PUBLISH_QOS1_PID1 = b"\x32\x09\x00\x03a/b\x00\x01hi"  # the same at QoS 1 with packet id 1


def connected(broker: Broker, clock: FakeClock, client_id: str, level: int = codec.MQTT311) -> Wire:
    wire = Wire(broker, clock)
    wire.connect(client_id, level)
    wire.events()
    return wire


def subscribed(broker: Broker, clock: FakeClock, client_id: str, topic_filter: str, qos: int) -> Wire:
    wire = connected(broker, clock, client_id)
    wire.send(codec.encode_subscribe(1, [(topic_filter, qos)]))
    assert wire.take() == bytes((0x90, 0x03, 0x00, 0x01, qos))  # SUBACK, granted QoS
    return wire


def test_qos0_publish_is_routed_and_not_acknowledged():
    """MQTT 3.1.1 section 4.3.1: QoS 0 is delivered at most once, with no acknowledgement to the publisher."""
    clock, broker = FakeClock(), Broker()
    subscriber = subscribed(broker, clock, "sub", "a/+", 0)
    publisher = connected(broker, clock, "pub")
    publisher.send(codec.encode_publish("a/b", b"hi"))
    assert publisher.take() == b""
    assert subscriber.take() == PUBLISH_QOS0


def test_qos1_publish_gets_puback_and_the_delivery_waits_for_the_subscribers_puback():
    """MQTT 3.1.1 section 4.3.2: the publisher gets PUBACK with its packet id; the subscriber gets the message
    with the broker's own packet id, in flight until its PUBACK (AWS: at most 100 in flight, mqtt.html)."""
    clock, broker = FakeClock(), Broker()
    subscriber = subscribed(broker, clock, "sub", "a/b", 1)
    publisher = connected(broker, clock, "pub")
    publisher.send(codec.encode_publish("a/b", b"hi", qos=1, packet_id=7))
    assert publisher.take() == b"\x40\x02\x00\x07"
    assert subscriber.take() == PUBLISH_QOS1_PID1
    session = broker.sessions["sub"]
    assert list(session.inflight) == [1]
    subscriber.send(b"\x40\x02\x00\x01")  # PUBACK 1
    assert session.inflight == {}


def test_qos1_publish_to_a_qos0_subscription_is_delivered_at_qos0():
    """MQTT 3.1.1 section 3.8.4: a delivery uses the lower of the publish QoS and the granted QoS."""
    clock, broker = FakeClock(), Broker()
    subscriber = subscribed(broker, clock, "sub", "a/b", 0)
    connected(broker, clock, "pub").send(codec.encode_publish("a/b", b"hi", qos=1, packet_id=3))
    assert subscriber.take() == PUBLISH_QOS0


def test_qos2_publish_on_mqtt5_gets_disconnect_0x9b():
    """AWS mqtt.html (MQTT 5 differences): QoS 2 is not supported; an MQTT 5 client sending it gets DISCONNECT
    0x9B QoS not supported."""
    wire = connected(Broker(), FakeClock(), "q2", codec.MQTT5)
    head, tail = codec.encode_publish_parts(codec.MQTT5, "a/b", b"x", 2, False, {})
    wire.send(head + b"\x00\x05" + tail)
    assert wire.take() == b"\xe0\x02\x9b\x00"
    assert wire.closing().reason is DisconnectReason.CLIENT_ERROR


def test_qos2_publish_on_mqtt311_closes_without_puback():
    """AWS mqtt.html: "When QoS level 2 is requested, the AWS IoT message broker does not send a PUBACK or
    SUBACK"; localcore closes the 3.1.1 connection (CLIENT_ERROR), nothing is routed."""
    clock, broker = FakeClock(), Broker()
    subscriber = subscribed(broker, clock, "sub", "a/b", 1)
    wire = connected(broker, clock, "q2")
    head, tail = codec.encode_publish_parts(codec.MQTT311, "a/b", b"x", 2, False, {})
    wire.send(head + b"\x00\x05" + tail)
    assert wire.take() == b""
    assert wire.closing().reason is DisconnectReason.CLIENT_ERROR
    assert subscriber.take() == b""


def test_denied_filter_on_mqtt5_gets_suback_0x87_and_the_connection_stays():
    """AWS mqtt.html MQTT 5 reason codes: a filter the policy denies gets SUBACK 0x87 Not authorized; the other
    filters of the same SUBSCRIBE are granted."""
    broker = Broker(RuleAuthenticator(deny={("iot:Subscribe", "secret/#")}))
    wire = connected(broker, FakeClock(), "s5", codec.MQTT5)
    wire.send(codec.encode_subscribe(1, [("a/b", 1), ("secret/#", 1)], codec.MQTT5))
    assert wire.take() == b"\x90\x05\x00\x01\x00\x01\x87"
    assert wire.protocol.state is OPEN


def test_denied_filter_on_mqtt311_gets_suback_0x80_then_close():
    """AWS closes an MQTT 3.1.1 connection after a denied SUBSCRIBE (aws/aws-iot-device-sdk-js #125, docs/broker.md);
    the SUBACK failure code 0x80 (MQTT 3.1.1 section 3.9.3) goes out first. Lifecycle reason AUTH_ERROR."""
    broker = Broker(RuleAuthenticator(deny={("iot:Subscribe", "secret/#")}))
    wire = connected(broker, FakeClock(), "s3")
    wire.send(codec.encode_subscribe(1, [("a/b", 1), ("secret/#", 1)]))
    assert wire.take() == b"\x90\x04\x00\x01\x01\x80"
    assert wire.closing().reason is DisconnectReason.AUTH_ERROR


@pytest.mark.parametrize(
    ("level", "expected"),
    [(codec.MQTT5, b"\xe0\x02\x81\x00"), (codec.MQTT311, b"")],
    ids=["mqtt5-disconnect-0x81", "mqtt311-closed"],
)
def test_malformed_packet_closes_with_malformed_packet(level, expected):
    """MQTT 5.0 section 4.13: a Malformed Packet → DISCONNECT 0x81, then close; a 3.1.1 server just closes
    (3.1.1 section 4.8). Here: reserved subscription-option bits set."""
    wire = connected(Broker(), FakeClock(), "bad", level)
    wire.send(codec.encode_subscribe(1, [("a/b", 0xC1)], level))
    assert wire.take() == expected
    closing = wire.closing()
    assert (closing.reason, closing.code) == (DisconnectReason.CLIENT_ERROR, 0x81)


def test_packet_over_the_maximum_size_gets_0x95_before_its_body_arrives():
    """AWS (https://docs.aws.amazon.com/general/latest/gr/iot-core.html): 128 KB payloads; localcore refuses a
    packet over `BrokerLimits.max_packet_size` (146 KB) from its header alone: MQTT 5 DISCONNECT 0x95."""
    wire = connected(Broker(), FakeClock(), "huge", codec.MQTT5)
    wire.send(b"\x30" + codec.encode_varint(200 * 1024) + b"\x00\x01t")
    assert wire.take() == b"\xe0\x02\x95\x00"
    assert wire.protocol.state is CLOSING


def test_publishes_over_the_per_connection_rate_get_puback_0x97_until_the_next_second():
    """AWS (https://docs.aws.amazon.com/general/latest/gr/iot-core.html): 100 publishes/s per connection, excess
    dropped; localcore answers a dropped MQTT 5 QoS 1 publish with PUBACK 0x97 Quota exceeded."""
    clock = FakeClock()
    broker = Broker(limits=BrokerLimits(publishes_per_second=2))
    wire = connected(broker, clock, "chatty", codec.MQTT5)
    for packet_id in (1, 2, 3):
        wire.send(codec.encode_publish("a/b", b"x", qos=1, packet_id=packet_id, level=codec.MQTT5))
    assert wire.take() == b"\x40\x02\x00\x01" + b"\x40\x02\x00\x02" + b"\x40\x03\x00\x03\x97"
    assert broker.throttled == 1
    clock.advance(1.0)
    wire.send(codec.encode_publish("a/b", b"x", qos=1, packet_id=4, level=codec.MQTT5))
    assert wire.take() == b"\x40\x02\x00\x04"


def test_topic_alias_is_remembered_per_connection():
    """MQTT 5.0 section 3.3.2.3.4 and AWS (8 aliases, mqtt.html): a PUBLISH with a topic and alias N sets the
    alias; a later one with an empty topic and alias N uses it; alias 0 or above the maximum → DISCONNECT 0x94."""
    clock, broker = FakeClock(), Broker()
    subscriber = subscribed(broker, clock, "sub", "a/b", 0)
    wire = connected(broker, clock, "aliaser", codec.MQTT5)
    for topic in ("a/b", ""):
        head, tail = codec.encode_publish_parts(codec.MQTT5, topic, b"hi", 0, False, {codec.P_TOPIC_ALIAS: 3})
        wire.send(head + tail)
    assert subscriber.take() == PUBLISH_QOS0 * 2
    head, tail = codec.encode_publish_parts(codec.MQTT5, "a/b", b"hi", 0, False, {codec.P_TOPIC_ALIAS: 9})
    wire.send(head + tail)
    assert wire.take() == b"\xe0\x02\x94\x00"
