"""Publish/subscribe through real sockets with paho-mqtt (MQTT 3.1.1 and 5) — AWS IoT mqtt.html semantics."""

from __future__ import annotations

import socket
import threading

import pytest

from localcore.broker import codec
from localcore.broker.message import Message, PublishProperties
from localcore.broker.testing import MqttTestClient

PROTOCOLS = [4, 5]


@pytest.mark.parametrize("publisher_protocol", PROTOCOLS)
@pytest.mark.parametrize("subscriber_protocol", PROTOCOLS)
def test_cross_version_delivery(broker, client, publisher_protocol, subscriber_protocol):
    """AWS mqtt.html: MQTT 3 and MQTT 5 clients interoperate; delivery QoS = min(publish QoS, granted QoS)."""
    sub = client(broker.mqtt_port, "sub", protocol=subscriber_protocol).connect()
    assert sub.subscribe([("t/q1", 1), ("t/q0", 0)]) == [1, 0]
    pub = client(broker.mqtt_port, "pub", protocol=publisher_protocol).connect()
    assert pub.publish("t/q1", b"one", qos=1) == 0
    assert pub.publish("t/q0", b"two", qos=1) == 0
    received = sorted((m.topic, m.payload, m.qos, m.retain) for m in sub.expect(2))
    assert received == [("t/q0", b"two", 0, False), ("t/q1", b"one", 1, False)]


def test_mqtt5_properties_forwarded_and_dropped_for_311(broker, client):
    """AWS mqtt.html: MQTT 5 properties reach MQTT 5 subscribers; 3.1.1 receivers get none."""
    v5 = client(broker.mqtt_port, "v5", protocol=5).connect()
    v3 = client(broker.mqtt_port, "v3", protocol=4).connect()
    v5.subscribe("p/x")
    v3.subscribe("p/x")
    pub = client(broker.mqtt_port, "pub", protocol=5).connect()
    pub.publish(
        "p/x",
        b"{}",
        qos=1,
        ContentType="application/json",
        ResponseTopic="p/reply",
        CorrelationData=b"c1",
        UserProperty=[("k", "v")],
    )
    props = v5.expect(1)[0].properties
    assert props["ContentType"] == "application/json"
    assert props["ResponseTopic"] == "p/reply"
    assert props["UserProperty"] == [["k", "v"]] or props["UserProperty"] == [("k", "v")]
    assert v3.expect(1)[0].payload == b"{}"


def test_fan_out_to_fifty_subscribers(broker, client):
    """docs/architecture.md broadcast topics: one publish reaches every one of 50 subscribers (subscription index)."""
    subscribers = [
        client(broker.mqtt_port, f"s{index}", protocol=4 if index % 2 else 5).connect() for index in range(50)
    ]
    for index, sub in enumerate(subscribers):
        sub.subscribe("chat/+/response/+" if index % 3 else "chat/#", qos=1)
    pub = client(broker.mqtt_port, "pub").connect()
    for seq in range(5):
        pub.publish("chat/u1/response/r1", f"{seq}".encode(), qos=1)
    for sub in subscribers:
        assert sorted(m.payload for m in sub.expect(5)) == [b"0", b"1", b"2", b"3", b"4"]


def test_connack_properties_mqtt5(broker, client):
    """AWS mqtt.html (MQTT 5): Maximum QoS 1, Retain Available, no Subscription Identifiers, shared
    subscriptions, Topic Alias Maximum 8, Server Keep Alive, Maximum Packet Size; an empty client id
    gets an Assigned Client Identifier."""
    c = client(broker.mqtt_port, "", protocol=5).connect()
    props = c.connack.properties
    assert props["MaximumQoS"] == 1
    assert props["RetainAvailable"] == 1
    assert props["SubscriptionIdentifierAvailable"] == 0
    assert props["SharedSubscriptionAvailable"] == 1
    assert props["TopicAliasMaximum"] == 8
    assert props["ServerKeepAlive"] == 60
    assert props["MaximumPacketSize"] >= 128 * 1024
    assert props["AssignedClientIdentifier"].startswith("localcore-")


def test_qos2_subscription_is_granted_qos1(broker, client):
    """AWS mqtt.html: QoS 2 is not supported; a QoS 2 subscription is granted QoS 1."""
    for protocol in PROTOCOLS:
        c = client(broker.mqtt_port, f"q2-{protocol}", protocol=protocol).connect()
        assert c.subscribe("q/2", qos=2) == [1]


def test_qos2_publish_mqtt5_gets_disconnect_0x9b(broker, client):
    """AWS mqtt.html: an MQTT 5 client publishing QoS 2 gets DISCONNECT 0x9B (QoS not supported)."""
    c = client(broker.mqtt_port, "q2pub", protocol=5).connect()
    c.client.publish("q/2", b"x", qos=2)
    assert c.wait_disconnected() == 0x9B


def test_qos2_publish_mqtt311_closes_connection(broker, client):
    """AWS does not support QoS 2 (mqtt.html); MQTT 3.1.1 has no DISCONNECT from the server, so it closes."""
    c = client(broker.mqtt_port, "q2pub3", protocol=4).connect()
    c.client.publish("q/2", b"x", qos=2)
    c.wait_disconnected()


def test_internal_publish_and_listener(broker, client):
    """Broker.publish (iot-data / rules republish) reaches subscribers; listeners see client publishes."""
    recorder = broker.record(lambda m: m.topic.startswith("int/"))
    sub = client(broker.mqtt_port, "sub", protocol=5).connect()
    sub.subscribe("int/#")
    broker.publish(
        Message("int/a", b"from-http", qos=1, properties=PublishProperties(content_type="text/plain"))
    )
    received = sub.expect(1)[0]
    assert (received.topic, received.payload, received.properties["ContentType"]) == (
        "int/a",
        b"from-http",
        "text/plain",
    )
    pub = client(broker.mqtt_port, "pubber", protocol=4, username="alice").connect()
    pub.publish("int/b", b"mqtt", qos=1)
    messages = recorder.wait_for(2)
    assert messages[1].publisher.client_id == "pubber"
    assert messages[1].publisher.principal == "alice"
    assert messages[1].publisher.source_ip == "127.0.0.1"
    assert messages[1].publisher.trace_id
    assert messages[0].publisher.client_id is None


def test_no_local_subscription_option(broker, client):
    """MQTT 5 §3.8.3.1 No Local: a client does not receive its own publishes on that subscription."""
    c = client(broker.mqtt_port, "nl", protocol=5).connect()
    c.subscribe("nl/t", qos=1, noLocal=True)
    other = client(broker.mqtt_port, "other", protocol=5).connect()
    c.publish("nl/t", b"mine", qos=1)
    other.publish("nl/t", b"theirs", qos=1)
    assert [m.payload for m in c.expect(1)] == [b"theirs"]


def test_shared_subscription_round_robin(broker, client):
    """AWS shared subscriptions ($share/group/filter): each message goes to one member of the group."""
    members = [client(broker.mqtt_port, f"m{index}", protocol=5).connect() for index in range(3)]
    for member in members:
        member.subscribe("$share/workers/jobs/+", qos=1)
    plain = client(broker.mqtt_port, "plain", protocol=5).connect()
    plain.subscribe("jobs/+")
    pub = client(broker.mqtt_port, "pub", protocol=5).connect()
    for index in range(9):
        pub.publish(f"jobs/{index}", b"x", qos=1)
    assert len(plain.expect(9)) == 9
    counts = [len(member.expect(3)) for member in members]
    assert counts == [3, 3, 3]


def test_topic_alias_from_client(broker, client):
    """MQTT 5 §3.3.2.3.4: a client sets a Topic Alias (max 8) and then sends an empty topic."""
    sub = client(broker.mqtt_port, "sub", protocol=5).connect()
    sub.subscribe("alias/topic")
    with socket.create_connection(("127.0.0.1", broker.mqtt_port)) as raw:
        raw.sendall(codec.encode_connect("aliaser", codec.MQTT5))
        assert raw.recv(1)[0] == 0x20
        for topic in ("alias/topic", ""):
            head, tail = codec.encode_publish_parts(
                codec.MQTT5, topic, b"via-alias", 0, False, {codec.P_TOPIC_ALIAS: 3}
            )
            raw.sendall(head + tail)
        assert [m.topic for m in sub.expect(2)] == ["alias/topic", "alias/topic"]


def test_many_clients_in_parallel_threads(broker):
    """The broker handles concurrent publishers (one event loop, no shared-state races)."""
    results: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        with MqttTestClient(broker.mqtt_port, f"w{index}") as c:
            c.connect()
            c.subscribe(f"w/{index}")
            c.publish(f"w/{index}", b"x", qos=1)
            with lock:
                results.append(len(c.expect(1)))

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [1] * 10
