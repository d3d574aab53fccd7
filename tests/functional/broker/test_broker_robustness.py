"""A bad packet or a stalled client closes one connection, never the broker; slow consumers stay bounded."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcore.broker import codec
from localcore.broker.limits import BrokerLimits


def raw_connect(port: int, client_id: str, level: int = codec.MQTT311) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(codec.encode_connect(client_id, level))
    assert sock.recv(1) == b"\x20"  # CONNACK
    length = sock.recv(1)[0]
    sock.recv(length)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff\xff\xff\xff\xff",  # not a packet at all
        b"\x30\x05\x00\xffabc",  # PUBLISH whose topic length runs past the packet
        b"\x82\x04\x00\x01\x00\x00",  # SUBSCRIBE with an empty filter list tail (truncated)
        b"\x50\x02\x00\x01",  # PUBREC: QoS 2 flow is not supported
        codec.encode_connect("again"),  # a second CONNECT
    ],
)
def test_malformed_packet_closes_only_that_connection(broker, client, garbage):
    """MQTT §4.8: a malformed packet closes the connection; the broker and other clients carry on."""
    bystander = client(broker.mqtt_port, "bystander").connect()
    bystander.subscribe("still/works")
    sock = raw_connect(broker.mqtt_port, "bad")
    sock.sendall(garbage)
    read_until_closed(sock)
    sock.close()
    bystander.publish("still/works", b"yes", qos=1)
    assert bystander.expect(1)[0].payload == b"yes"


def test_malformed_packet_mqtt5_gets_disconnect_reason_first(broker):
    """MQTT 5 §4.13: the server sends DISCONNECT with a reason code (0x81 Malformed Packet) before closing."""
    sock = raw_connect(broker.mqtt_port, "bad5", codec.MQTT5)
    sock.sendall(b"\x30\x05\x00\xffabc")
    data = read_until_closed(sock)
    assert data[:1] == b"\xe0" and data[2] == 0x81


def test_first_packet_must_be_connect(broker):
    """MQTT §3.1: the first packet from a client must be CONNECT; anything else closes the connection."""
    with socket.create_connection(("127.0.0.1", broker.mqtt_port), timeout=5) as sock:
        sock.sendall(codec.encode_subscribe(1, [("a", 0)]))
        assert read_until_closed(sock) == b""


def test_unsupported_protocol_version_gets_connack_1(broker):
    """MQTT 3.1.1 §3.1.2.2: an unsupported protocol level gets CONNACK return code 0x01, then close."""
    raw = bytearray(codec.encode_connect("old"))
    raw[8] = 3  # MQTT 3.1
    with socket.create_connection(("127.0.0.1", broker.mqtt_port), timeout=5) as sock:
        sock.sendall(bytes(raw))
        assert read_until_closed(sock) == b"\x20\x02\x00\x01"


def test_client_that_never_sends_connect_is_closed(make_broker):
    """A stalled client (no CONNECT within the connect timeout) is closed."""
    running = make_broker(limits=BrokerLimits(connect_timeout=0.3))
    with socket.create_connection(("127.0.0.1", running.mqtt_port), timeout=5) as sock:
        assert read_until_closed(sock) == b""


def test_slow_consumer_is_bounded_and_does_not_block_publishers(make_broker, client):
    """A subscriber that never reads: its QoS 0 deliveries stop at half the outbound bound (the excess is
    dropped, the connection stays) and publishers are unaffected."""
    limits = BrokerLimits.unlimited().replace(max_outbound_bytes=64 * 1024)
    running = make_broker(limits=limits)
    stuck = socket.create_connection(("127.0.0.1", running.mqtt_port), timeout=5)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(codec.encode_connect("stuck") + codec.encode_subscribe(1, [("flood", 0)]))
    healthy = client(running.mqtt_port, "healthy").connect()
    healthy.subscribe("flood", qos=0)
    healthy.subscribe("done", qos=1)
    pub = client(running.mqtt_port, "pub").connect()
    payload = b"x" * 10_000
    for _ in range(500):  # ~5 MB, far beyond the stuck socket's buffers
        pub.publish("flood", payload, qos=0)
    assert pub.publish("done", b"end", qos=1) == 0
    assert healthy.expect(1, timeout=20)  # the publisher and others are not blocked

    def stuck_queue() -> int:
        session = running.broker.sessions["stuck"]
        return session.connection._out.size if session.connection else -1

    assert 0 <= running.call(stuck_queue) <= 32 * 1024
    stuck.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=1, max_size=200), level=st.sampled_from([codec.MQTT311, codec.MQTT5]))
def test_random_bytes_after_connect_never_hurt_the_broker(broker, garbage, level):
    """Robustness: whatever follows a valid CONNECT, the broker keeps serving other clients."""
    sock = raw_connect(broker.mqtt_port, "fuzz", level)
    sock.sendall(garbage)
    sock.close()
    with socket.create_connection(("127.0.0.1", broker.mqtt_port), timeout=5) as probe:
        probe.sendall(codec.encode_connect("probe") + b"\xc0\x00")  # CONNECT + PINGREQ
        assert probe.recv(4) == b"\x20\x02\x00\x00"
        assert probe.recv(2) == b"\xd0\x00"  # PINGRESP


def test_a_client_that_never_reads_is_closed_as_a_slow_consumer_and_others_carry_on(broker, client):
    """Real sockets: a client with a 4 KB receive buffer floods UNSUBSCRIBE and PINGREQ and never reads the
    replies. Once what waits for it passes `max_outbound_bytes` (1 MiB) the broker closes it (lifecycle
    THROTTLED, https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html) and frees what
    was queued; a subscriber on another connection receives throughout."""
    gone = broker.record(lambda m: m.topic == "$aws/events/presence/disconnected/sink")
    bystander = client(broker.mqtt_port, "bystander").connect()
    bystander.subscribe("still/works", qos=1)
    sink = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sink.connect(("127.0.0.1", broker.mqtt_port))
    sink.sendall(codec.encode_connect("sink", codec.MQTT5))
    flood = (codec.encode_unsubscribe(1, ["never/subscribed"], codec.MQTT5) + b"\xc0\x00") * 1000
    sink.settimeout(0.2)
    deadline = time.monotonic() + 30
    with contextlib.suppress(ConnectionError):  # the broker's reset ends the flood early
        while not gone.messages and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):  # the broker reads at 512 KiB/s
                sink.send(flood)
    [event] = gone.wait_for(1)
    assert json.loads(event.payload)["disconnectReason"] == "THROTTLED"
    sink.close()
    bystander.publish("still/works", b"yes", qos=1)
    assert bystander.expect(1)[0].payload == b"yes"
    assert broker.call(lambda: "sink" not in broker.broker.sessions)
