"""What a client can make the broker hold, without sockets: the outbound queue's bound in bytes (a client that
never reads is closed as a slow consumer; deliveries wait or are dropped instead) and the input held before
CONNACK.

AWS documents no outbound bound of its own (docs/broker.md "Slow consumers"); the close uses the MQTT 5 reason
code AWS lists for DISCONNECT, 0x97 Quota exceeded (https://docs.aws.amazon.com/iot/latest/developerguide/
mqtt.html, "MQTT 5 reason codes"), and the lifecycle reason THROTTLED, "disconnected for exceeding a throttling
limit" (https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html).
"""

from __future__ import annotations

import json

from localcore.broker import codec
from localcore.broker.broker import Broker
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.limits import BrokerLimits
from localcore.broker.message import Message
from localcore.broker.outbound import PACKET_OVERHEAD
from localcore.broker.protocol import CLOSING, OPEN
from localcore.broker.reasons import RC
from tests.support.protocol_support import T0, FakeClock, Wire, record

BOUND = 4096
PINGREQ = b"\xc0\x00"
PINGRESP = codec.PINGRESP_BYTES


def small_broker(**changes: object) -> Broker:
    return Broker(limits=BrokerLimits.unlimited().replace(max_outbound_bytes=BOUND, **changes))


def subscriber(broker: Broker, client_id: str, qos: int) -> Wire:
    """An MQTT 5 client subscribed to `feed` at `qos`, with nothing left to take."""
    wire = Wire(broker, FakeClock())
    wire.connect(client_id, codec.MQTT5)
    wire.send(codec.encode_subscribe(1, [("feed", qos)], codec.MQTT5))
    wire.take()
    return wire


def unsubscribe(packet_id: int, level: int = codec.MQTT5) -> bytes:
    return codec.encode_unsubscribe(packet_id, ["never/subscribed"], level)


def test_a_client_that_never_reads_its_replies_is_closed_as_a_slow_consumer():
    """PINGREQs whose PINGRESPs are never taken: once the queue is over its bound the connection closes with
    MQTT 5 DISCONNECT 0x97 Quota exceeded and lifecycle reason THROTTLED; what was queued is freed, and input
    after that is ignored."""
    broker = small_broker()
    messages = record(broker)
    wire = Wire(broker, FakeClock())
    wire.connect("sink", codec.MQTT5)
    per_reply = len(PINGRESP) + PACKET_OVERHEAD
    wire.send(PINGREQ * (BOUND // per_reply))
    assert wire.protocol.state is OPEN  # at the bound, not over it
    wire.send(PINGREQ)
    assert wire.protocol.state is CLOSING
    assert wire.take() == codec.encode_disconnect(RC.QUOTA_EXCEEDED)  # the PINGRESPs were dropped
    closing = wire.closing()
    assert (closing.reason, closing.code) == (DisconnectReason.THROTTLED, RC.QUOTA_EXCEEDED)
    wire.send(PINGREQ * 100)
    assert wire.take() == b""
    wire.protocol.connection_lost()
    [event] = [m for m in messages if m.topic == "$aws/events/presence/disconnected/sink"]
    assert json.loads(event.payload)["disconnectReason"] == "THROTTLED"


def test_mqtt311_slow_consumer_is_closed_without_a_disconnect_packet():
    """MQTT 3.1.1 has no server DISCONNECT: the connection just closes (lifecycle THROTTLED). UNSUBACKs count
    like any reply."""
    wire = Wire(small_broker(), FakeClock())
    wire.connect("sink")
    wire.send(unsubscribe(1, codec.MQTT311) * BOUND)
    assert wire.take() == b""
    assert wire.closing().reason is DisconnectReason.THROTTLED


def test_a_client_that_reads_its_replies_is_never_closed():
    """The same flood, with the writer taking what is queued as it goes: the bound is on what waits, not on
    how much a client asks for."""
    wire = Wire(small_broker(), FakeClock())
    wire.connect("reader", codec.MQTT5)
    for packet_id in range(1, 2001):
        wire.send(unsubscribe(packet_id), PINGREQ)
        assert wire.take()
    assert wire.protocol.state is OPEN


def test_qos0_deliveries_to_a_slow_reader_are_dropped_at_half_the_bound_and_replies_still_fit():
    """QoS 0 is at most once (MQTT 5.0 section 4.3.1): a delivery that does not fit half the bound is dropped,
    the connection stays, and the client's own requests are still answered."""
    broker = small_broker()
    wire = subscriber(broker, "viewer", qos=0)
    for _ in range(100):
        broker.route(Message("feed", b"x" * 200, qos=0), None)
    queued = wire.protocol._out
    delivered = len(queued)
    assert queued.size <= BOUND // 2 and 0 < delivered < 100
    assert broker.sessions["viewer"].dropped == 100 - delivered
    wire.send(PINGREQ)
    assert wire.protocol.state is OPEN
    assert wire.take().endswith(PINGRESP)


def test_qos1_deliveries_wait_in_the_session_while_there_is_no_room_and_flow_in_order_when_written():
    """QoS 1 may not be dropped: what does not fit waits in the session queue, and `data_to_send` (the bytes
    went to the socket) lets the next ones out, in order, with consecutive packet ids."""
    broker = small_broker()
    wire = subscriber(broker, "slow", qos=1)
    for index in range(20):
        broker.route(Message("feed", f"{index:03d}".encode() + b"x" * 500, qos=1), None)
    session = broker.sessions["slow"]
    assert session.queue and wire.protocol._out.size <= BOUND // 2
    payloads: list[bytes] = []
    while len(payloads) < 20:
        packets = wire.packets()
        assert packets, "deliveries stopped flowing"
        for first, body in packets:
            publish = codec.decode(first, body, codec.MQTT5)
            assert isinstance(publish, codec.Publish) and publish.packet_id == len(payloads) + 1
            payloads.append(publish.payload[:3])
    assert payloads == [f"{index:03d}".encode() for index in range(20)]
    assert wire.protocol.state is OPEN and not session.queue


def test_unacknowledged_deliveries_are_resent_to_a_new_connection_only_as_room_allows():
    """MQTT 5.0 section 4.4: unacknowledged PUBLISH packets are resent with their packet ids (DUP=1) when the
    session resumes; a resumed session with more than the room holds resends them as they are written."""
    clock = FakeClock()
    broker = small_broker()
    first = Wire(broker, clock)
    first.connect("phone", codec.MQTT5, clean_start=False, props={codec.P_SESSION_EXPIRY: 600})
    first.send(codec.encode_subscribe(1, [("feed", 1)], codec.MQTT5))
    for index in range(8):
        broker.route(Message("feed", bytes([index]) * 1000, qos=1), None)
        first.take()  # written, never acknowledged
    second = Wire(broker, clock)  # takes the session over (the first connection is closed)
    second.send(
        codec.encode_connect("phone", codec.MQTT5, clean_start=False, props={codec.P_SESSION_EXPIRY: 600})
    )
    (connack_first, connack), *packets = second.packets()
    assert connack_first >> 4 == codec.CONNACK and connack[0] == 1  # session present
    assert len(packets) < 8  # not all at once: they do not fit half the bound
    resent: list[int] = []
    while packets:
        for first_byte, body in packets:
            publish = codec.decode(first_byte, body, codec.MQTT5)
            assert isinstance(publish, codec.Publish) and publish.dup
            resent.append(publish.packet_id)
        packets = second.packets()
    assert resent == list(range(1, 9))


def test_a_first_packet_that_is_not_connect_is_refused_at_its_first_byte():
    """MQTT 3.1.1 [MQTT-3.1.0-1]: the first packet must be CONNECT. The fixed header of a 100 KB PUBLISH closes
    the connection at once: its body is never waited for nor held."""
    wire = Wire(Broker(), FakeClock())
    wire.send(b"\x30" + codec.encode_varint(100_000))
    assert wire.protocol.state is CLOSING
    assert wire.closing().reason is DisconnectReason.CLIENT_ERROR


def test_a_connect_over_the_maximum_packet_size_is_refused_at_its_fixed_header():
    """Before CONNACK nobody is authenticated: a CONNECT announcing more than the maximum packet size (146 KB,
    docs/broker.md) is refused when its Remaining Length arrives, before any of its body is held."""
    wire = Wire(Broker(), FakeClock())
    wire.send(b"\x10" + codec.encode_varint(146 * 1024))
    assert wire.closing().code == RC.PACKET_TOO_LARGE


def test_a_connect_trickled_byte_by_byte_is_closed_at_the_connect_timeout_from_the_accept():
    """A slowloris CONNECT (one byte a second) cannot hold its buffer longer than `connect_timeout` (10 s):
    the deadline counts from the accept, not from the last byte."""
    clock = FakeClock()
    wire = Wire(Broker(), clock)
    for byte in codec.encode_connect("slow-client-id")[:-1]:  # all but its last byte, one a second
        wire.send(bytes((byte,)))
        wire.protocol.tick(clock.advance(1.0))
        if wire.protocol.state is CLOSING:
            break
    assert wire.protocol.state is CLOSING and clock.now == T0 + 10
    assert wire.closing().reason is DisconnectReason.CLIENT_ERROR
