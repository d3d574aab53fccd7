"""AWS IoT Core per-connection quotas (https://docs.aws.amazon.com/general/latest/gr/iot-core.html)."""

from __future__ import annotations

import pytest

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
