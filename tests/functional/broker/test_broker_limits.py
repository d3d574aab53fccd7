"""AWS IoT Core per-connection quotas (https://docs.aws.amazon.com/general/latest/gr/iot-core.html)."""

from __future__ import annotations

import socket

import pytest

from localcore.broker import codec
from localcore.broker.limits import BrokerLimits


def test_payload_over_128_kb_disconnects(broker, client):
    """AWS: payloads over 128 KB are rejected and the client disconnected (MQTT 5: 0x95 Packet too large)."""
    c = client(broker.mqtt_port, "big", protocol=5).connect()
    assert c.publish("ok", b"x" * (128 * 1024), qos=1) == 0
    c.client.publish("big", b"x" * (128 * 1024 + 1), qos=1)
    assert c.wait_disconnected() == 0x95


@pytest.mark.parametrize("topic", ["a/" * 8 + "b", "x" * 257])
def test_topic_over_limits_rejected(broker, client, topic):
    """AWS: topics have at most 256 bytes and 7 slashes; MQTT 5 QoS 1 gets PUBACK 0x90 Topic Name invalid."""
    c = client(broker.mqtt_port, "t", protocol=5).connect()
    assert c.publish(topic, b"x", qos=1) == 0x90
    assert c.subscribe(topic) == [0x8F]


def test_client_id_over_128_bytes_refused(broker, client):
    """AWS: client ids are at most 128 bytes (CONNACK 0x85 Client Identifier not valid)."""
    c = client(broker.mqtt_port, "c" * 129, protocol=5)
    c.connect(expect_success=False)
    assert c.connack.reason_code == 0x85


def test_more_than_8_filters_per_subscribe_refused(broker, client):
    """AWS: at most 8 topic filters per SUBSCRIBE; the whole request fails (0x97 Quota exceeded)."""
    c = client(broker.mqtt_port, "f", protocol=5).connect()
    assert c.subscribe([(f"f/{index}", 1) for index in range(9)]) == [0x97] * 9
    assert c.subscribe([(f"f/{index}", 1) for index in range(8)]) == [1] * 8


def test_at_most_50_subscriptions_per_connection(broker, client):
    """AWS: 50 subscriptions per connection; the 51st is refused in SUBACK (0x97 on MQTT 5, 0x80 on 3.1.1)."""
    for protocol, failure in ((5, 0x97), (4, 0x80)):
        c = client(broker.mqtt_port, f"s{protocol}", protocol=protocol).connect()
        for start in range(0, 50, 8):
            c.subscribe([(f"s/{index}", 0) for index in range(start, min(start + 8, 50))], qos=0)
        assert c.subscribe("s/50") == [failure]
        assert c.subscribe("s/0") == [1]  # re-subscribing an existing filter is not a new subscription


def test_publish_rate_over_100_per_second_is_dropped(make_broker, client):
    """AWS: 100 publishes/s per connection; excess is discarded (MQTT 5 QoS 1: PUBACK 0x97)."""
    running = make_broker(limits=BrokerLimits())
    sub = client(running.mqtt_port, "sub", protocol=5).connect()
    sub.subscribe("rate")
    pub = client(running.mqtt_port, "pub", protocol=5)
    pub.client.max_inflight_messages_set(300)
    pub.connect()
    infos = [pub.client.publish("rate", b"x", qos=1) for _ in range(250)]
    for info in infos:
        info.wait_for_publish(5)
    codes = [pub._acks.pop(info.mid) for info in infos]
    accepted = codes.count(0)
    assert codes.count(0x97) > 0
    assert 100 <= accepted < 250
    assert running.broker.throttled > 0


def test_no_limits_mode_allows_large_payloads(make_broker, client):
    """`iotstream up --no-limits`: AWS quotas off (local experiments); protocol limits stay."""
    running = make_broker(limits=BrokerLimits.unlimited())
    c = client(running.mqtt_port, "big", protocol=5).connect()
    assert c.publish("big", b"x" * (512 * 1024), qos=1) == 0


def test_inbound_throughput_over_512_kib_per_second_is_delayed_not_dropped(make_broker, client):
    """AWS quotas: 512 KiB/s per connection; excess is delayed (every message still arrives)."""
    running = make_broker(limits=BrokerLimits(inbound_bytes_per_second=256 * 1024))
    sub = client(running.mqtt_port, "sub", protocol=5).connect()
    sub.subscribe("bulk")
    pub = client(running.mqtt_port, "pub", protocol=5).connect()
    for _ in range(6):  # 6 × 100 KB over a 256 KiB/s allowance
        pub.client.publish("bulk", b"x" * 100_000, qos=1)
    assert len(sub.expect(6, timeout=15)) == 6

    def delays() -> int:
        return sum(connection.throttled_reads for connection in running.broker.connections)

    assert running.call(delays) >= 1


def test_oversized_packet_header_gets_disconnect_0x95(broker):
    """MQTT 5 §3.2.2.3.6: a packet over the server's Maximum Packet Size → DISCONNECT 0x95, then close."""
    with socket.create_connection(("127.0.0.1", broker.mqtt_port), timeout=5) as sock:
        sock.sendall(codec.encode_connect("huge", codec.MQTT5))
        sock.recv(1024)  # CONNACK
        sock.sendall(b"\x30" + codec.encode_varint(200 * 1024) + b"\x00\x01t")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        assert data[:1] == b"\xe0" and data[2] == 0x95
