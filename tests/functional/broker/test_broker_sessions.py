"""Persistent sessions, takeover, Last Will and keep-alive (AWS mqtt.html)."""

from __future__ import annotations

import json
import threading

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from localcore.broker.limits import BrokerLimits


@pytest.mark.parametrize("protocol", [4, 5])
def test_persistent_session_queues_qos1_while_offline(broker, client, protocol):
    """AWS persistent sessions: subscriptions and QoS 1 messages are kept while offline, QoS 0 is not;
    CONNACK sessionPresent tells the client it need not resubscribe."""
    options = {"clean": False, "session_expiry": 3600} if protocol == 5 else {"clean": False}
    first = client(broker.mqtt_port, "device", protocol=protocol, **options).connect()
    assert first.connack.session_present is False
    first.subscribe("cmd/#", qos=1)
    first.disconnect()
    pub = client(broker.mqtt_port, "pub").connect()
    pub.publish("cmd/a", b"q1-a", qos=1)
    pub.publish("cmd/b", b"q0", qos=0)
    pub.publish("cmd/c", b"q1-c", qos=1)
    second = client(broker.mqtt_port, "device", protocol=protocol, **options).connect()
    assert second.connack.session_present is True
    assert sorted(m.payload for m in second.expect(2)) == [b"q1-a", b"q1-c"]
    pub.publish("cmd/d", b"live", qos=1)  # the stored subscription still works
    assert second.expect(3)[2].payload == b"live"
    assert all(m.payload != b"q0" for m in second.received)


def test_clean_session_discards_state(broker, client):
    """MQTT 3.1.1 cleanSession=1 (and MQTT 5 Clean Start with expiry 0): nothing survives the connection."""
    first = client(broker.mqtt_port, "dev", protocol=4, clean=False).connect()
    first.subscribe("x/#")
    first.disconnect()
    second = client(broker.mqtt_port, "dev", protocol=4, clean=True).connect()
    assert second.connack.session_present is False
    pub = client(broker.mqtt_port, "pub").connect()
    pub.publish("x/1", b"a", qos=1)
    second.subscribe("x/2")  # a round trip after the publish: nothing arrived for x/1
    assert second.received == []


def test_session_not_resumed_across_protocol_versions(broker, client):
    """AWS mqtt.html: persistent sessions cannot be resumed across MQTT versions."""
    first = client(broker.mqtt_port, "dev", protocol=4, clean=False).connect()
    first.subscribe("x/#")
    first.disconnect()
    second = client(broker.mqtt_port, "dev", protocol=5, clean=False, session_expiry=600).connect()
    assert second.connack.session_present is False


def test_session_expiry_is_capped_and_reported(make_broker, client):
    """MQTT 5: a Session Expiry above the maximum (AWS: 1 h) is lowered and returned in CONNACK."""
    running = make_broker(limits=BrokerLimits(session_expiry_seconds=120))
    c = client(running.mqtt_port, "dev", protocol=5, clean=False, session_expiry=100000).connect()
    assert c.connack.properties["SessionExpiryInterval"] == 120


def test_takeover_disconnects_older_connection(broker, client):
    """AWS mqtt.html: a second CONNECT with the same client id wins; the old MQTT 5 client gets
    DISCONNECT 0x8E, and the disconnected lifecycle event says DUPLICATE_CLIENTID."""
    recorder = broker.record(lambda m: m.topic == "$aws/events/presence/disconnected/dup")
    old = client(broker.mqtt_port, "dup", protocol=5).connect()
    new = client(broker.mqtt_port, "dup", protocol=5).connect()
    assert old.wait_disconnected() == 0x8E
    event = json.loads(recorder.wait_for(1)[0].payload)
    assert event["disconnectReason"] == "DUPLICATE_CLIENTID"
    assert event["clientInitiatedDisconnect"] is False
    new.subscribe("still/alive")  # the new connection works


def test_will_published_on_connection_loss_not_on_disconnect(broker, client):
    """AWS mqtt.html LWT: published when the disconnect is not client-initiated, not after DISCONNECT."""
    watcher = client(broker.mqtt_port, "watcher").connect()
    watcher.subscribe("wills/#")
    polite = client(broker.mqtt_port, "polite", protocol=4)
    polite.client.will_set("wills/polite", b"gone", qos=1)
    polite.connect()
    polite.disconnect()
    rude = client(broker.mqtt_port, "rude", protocol=5)
    rude.client.will_set("wills/rude", b"lost", qos=1)
    rude.connect()
    rude.client.socket().close()  # drop the TCP connection without DISCONNECT
    messages = watcher.expect(1)
    assert [(m.topic, m.payload) for m in messages] == [("wills/rude", b"lost")]


def test_will_published_on_takeover(broker, client):
    """AWS: a takeover is not a client-initiated disconnect, so the old connection's will is published."""
    watcher = client(broker.mqtt_port, "watcher").connect()
    watcher.subscribe("wills/#")
    old = client(broker.mqtt_port, "dev", protocol=4)
    old.client.will_set("wills/dev", b"taken", qos=0)
    old.connect()
    client(broker.mqtt_port, "dev", protocol=4).connect()
    assert watcher.expect(1)[0].payload == b"taken"


def test_keep_alive_timeout_closes_connection(make_broker, client):
    """AWS mqtt.html: the broker disconnects after 1.5 × keep-alive without traffic (MQTT 5: 0x8D)."""
    running = make_broker(limits=BrokerLimits(keep_alive_min=1))
    recorder = running.record(lambda m: m.topic.startswith("$aws/events/presence/disconnected/"))
    c = client(running.mqtt_port, "sleepy", protocol=5, keepalive=1)
    c.connect()
    c.client.loop_stop()
    event = json.loads(recorder.wait_for(1, timeout=10)[0].payload)
    assert event["disconnectReason"] == "MQTT_KEEP_ALIVE_TIMEOUT"


@pytest.mark.parametrize(("requested", "granted"), [(0, 1200), (5, 30), (45, 45), (5000, 1200)])
def test_keep_alive_clamp_reported_in_connack(broker, client, requested, granted):
    """AWS mqtt.html: keep-alive 30–1200 s, 0 → 1200, returned in CONNACK Server Keep Alive (MQTT 5)."""
    c = client(broker.mqtt_port, f"ka{requested}", protocol=5, keepalive=requested).connect()
    assert c.connack.properties["ServerKeepAlive"] == granted


def test_persistent_session_expires_after_its_interval(make_broker, client):
    """AWS persistent sessions: the session (subscriptions and queue) is discarded when its expiry elapses
    after disconnect; a later connect finds no session (sessionPresent=0)."""
    running = make_broker(limits=BrokerLimits(session_expiry_seconds=1))
    expired = threading.Event()
    running.call(lambda: running.broker.session_expired_callbacks.append(lambda client_id: expired.set()))
    first = client(running.mqtt_port, "short", protocol=5, clean=False, session_expiry=1).connect()
    first.subscribe("s/#")
    first.disconnect()
    assert expired.wait(10)
    again = client(running.mqtt_port, "short", protocol=5, clean=False, session_expiry=1).connect()
    assert again.connack.session_present is False


def test_session_expiry_cannot_grow_from_zero_on_disconnect(broker, client):
    """MQTT 5 §3.14.2.2.2: DISCONNECT may not set a Session Expiry when CONNECT had 0 (protocol error 0x82)."""
    recorder = broker.record(lambda m: m.topic == "$aws/events/presence/disconnected/z")
    c = client(broker.mqtt_port, "z", protocol=5).connect()
    props = Properties(PacketTypes.DISCONNECT)
    props.SessionExpiryInterval = 60
    c.client.disconnect(properties=props)
    event = json.loads(recorder.wait_for(1)[0].payload)
    assert event["disconnectReason"] == "CLIENT_ERROR"
