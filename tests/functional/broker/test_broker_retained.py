"""Retained messages with AWS IoT's rules (mqtt.html "Retained messages")."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("protocol", [4, 5])
def test_retained_delivered_only_to_exact_filter_with_retain_flag(broker, client, protocol):
    """AWS: retained messages are sent on subscribe only when the filter equals the topic, with RETAIN=1;
    wildcard subscriptions get no retained message."""
    pub = client(broker.mqtt_port, "pub").connect()
    pub.publish("dev/1/state", b"on", qos=1, retain=True)
    wild = client(broker.mqtt_port, "wild", protocol=protocol).connect()
    wild.subscribe("dev/+/state")
    exact = client(broker.mqtt_port, "exact", protocol=protocol).connect()
    exact.subscribe("dev/1/state")
    message = exact.expect(1)[0]
    assert (message.payload, message.retain, message.qos) == (b"on", True, 1)
    pub.publish("dev/1/state", b"off", qos=1)  # live: RETAIN=0 for both
    assert [(m.payload, m.retain) for m in wild.expect(1)] == [(b"off", False)]
    assert [(m.payload, m.retain) for m in exact.expect(2)][1] == (b"off", False)


def test_one_retained_per_topic_and_empty_payload_deletes(broker, client):
    """AWS: a new retained publish replaces the old; a 0-byte one deletes it and is still delivered."""
    pub = client(broker.mqtt_port, "pub").connect()
    pub.publish("r/t", b"v1", qos=1, retain=True)
    pub.publish("r/t", b"v2", qos=1, retain=True)
    current = client(broker.mqtt_port, "current").connect()
    current.subscribe("r/t")
    assert current.expect(1)[0].payload == b"v2"
    pub.publish("r/t", b"", qos=1, retain=True)
    assert current.expect(2)[1].payload == b""
    later = client(broker.mqtt_port, "later").connect()
    later.subscribe("r/t")
    later.subscribe("r/other")  # round trip: a retained message would have arrived before this SUBACK
    assert later.received == []
    assert broker.call(lambda: len(broker.broker.retained)) == 0


def test_retained_publish_to_reserved_topic_is_refused(broker, client):
    """AWS mqtt.html: retained publishes to reserved ($) topics are refused (MQTT 5: PUBACK 0x90)."""
    c = client(broker.mqtt_port, "c", protocol=5).connect()
    assert c.publish("$aws/things/x/shadow/update", b"{}", qos=1, retain=True) == 0x90
    assert broker.call(lambda: len(broker.broker.retained)) == 0


def test_retain_handling_2_sends_no_retained(broker, client):
    """MQTT 5 §3.8.3.1 Retain Handling 2: do not send retained messages at subscribe time."""
    pub = client(broker.mqtt_port, "pub").connect()
    pub.publish("rh/t", b"kept", qos=1, retain=True)
    c = client(broker.mqtt_port, "c", protocol=5).connect()
    c.subscribe("rh/t", qos=1, retainHandling=2)
    c.subscribe("rh/other")
    assert c.received == []


def test_message_expiry_applies_to_retained(broker, client):
    """AWS mqtt.html: MQTT 5 Message Expiry applies to retained messages (remaining interval sent)."""
    pub = client(broker.mqtt_port, "pub", protocol=5).connect()
    pub.publish("exp/t", b"fresh", qos=1, retain=True, MessageExpiryInterval=600)
    c = client(broker.mqtt_port, "c", protocol=5).connect()
    c.subscribe("exp/t")
    assert 0 < c.expect(1)[0].properties["MessageExpiryInterval"] <= 600


def test_retain_as_published_keeps_the_flag_on_live_deliveries(broker, client):
    """MQTT 5 §3.3.1.3 / §3.8.3.1 Retain As Published: with RAP=1 a live delivery keeps the RETAIN flag it
    was published with; with RAP=0 (and for every MQTT 3.1.1 subscriber) it is 0. AWS lists the MQTT 5
    subscription options among its supported features
    (https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt5) and documents no deviation."""
    keep = client(broker.mqtt_port, "keep", protocol=5).connect()
    keep.subscribe("rap/+", qos=1, retainAsPublished=True)
    clear = client(broker.mqtt_port, "clear", protocol=5).connect()
    clear.subscribe("rap/+", qos=1)
    old = client(broker.mqtt_port, "old", protocol=4).connect()
    old.subscribe("rap/+", qos=1)
    pub = client(broker.mqtt_port, "pub").connect()
    pub.publish("rap/a", b"retained", qos=1, retain=True)
    pub.publish("rap/a", b"plain", qos=1)
    assert [(m.payload, m.retain) for m in keep.expect(2)] == [(b"retained", True), (b"plain", False)]
    assert [(m.payload, m.retain) for m in clear.expect(2)] == [(b"retained", False), (b"plain", False)]
    assert [(m.payload, m.retain) for m in old.expect(2)] == [(b"retained", False), (b"plain", False)]
