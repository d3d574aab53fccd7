"""AWS IoT lifecycle events (https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html)."""

from __future__ import annotations

import json


def test_connect_subscribe_unsubscribe_disconnect_events(broker, client):
    """Lifecycle payload fields: clientId, timestamp, eventType, sessionIdentifier, principalIdentifier,
    ipAddress (connect), versionNumber, clientInitiatedDisconnect/disconnectReason, topics."""
    monitor = client(broker.mqtt_port, "monitor").connect()
    monitor.subscribe("$aws/events/+/+/dev1")
    dev = client(broker.mqtt_port, "dev1", protocol=5, username="alice").connect()
    dev.subscribe([("a/b", 1), ("c/#", 0)])
    dev.unsubscribe("a/b")
    dev.disconnect()
    events = {m.topic: json.loads(m.payload) for m in monitor.expect(4)}
    connected = events["$aws/events/presence/connected/dev1"]
    assert connected["eventType"] == "connected"
    assert connected["principalIdentifier"] == "alice"
    assert connected["ipAddress"] == "127.0.0.1"
    assert isinstance(connected["timestamp"], int)
    subscribed = events["$aws/events/subscriptions/subscribed/dev1"]
    assert subscribed["topics"] == ["a/b", "c/#"]
    assert events["$aws/events/subscriptions/unsubscribed/dev1"]["topics"] == ["a/b"]
    disconnected = events["$aws/events/presence/disconnected/dev1"]
    assert disconnected["clientInitiatedDisconnect"] is True
    assert disconnected["disconnectReason"] == "CLIENT_INITIATED_DISCONNECT"
    assert disconnected["sessionIdentifier"] == connected["sessionIdentifier"]
    assert disconnected["versionNumber"] == connected["versionNumber"]
    assert "ipAddress" not in disconnected


def test_connection_lost_reason_and_version_increase(broker, client):
    """AWS: versionNumber increases per client id; a dropped socket is CONNECTION_LOST."""
    recorder = broker.record(lambda m: m.topic.endswith("/flaky"))
    first = client(broker.mqtt_port, "flaky").connect()
    first.client.socket().close()
    recorder.wait_for(2)  # AWS does not order events; wait for the disconnect before reconnecting
    client(broker.mqtt_port, "flaky").connect()
    events = [json.loads(m.payload) for m in recorder.wait_for(3)]
    assert [e["eventType"] for e in events] == ["connected", "disconnected", "connected"]
    assert events[1]["disconnectReason"] == "CONNECTION_LOST"
    assert events[2]["versionNumber"] > events[0]["versionNumber"]


def test_client_ids_with_wildcards_emit_no_events(broker, client):
    """AWS: client ids containing # or + produce no lifecycle events."""
    recorder = broker.record(lambda m: m.topic.startswith("$aws/events/"))
    client(broker.mqtt_port, "odd+id").connect()
    client(broker.mqtt_port, "normal").connect()
    assert [m.topic for m in recorder.wait_for(1)] == ["$aws/events/presence/connected/normal"]


def test_wildcard_at_first_level_does_not_receive_aws_events(broker, client):
    """MQTT §4.7.2: '#' and '+/...' filters do not match topics beginning with '$'."""
    everything = client(broker.mqtt_port, "all").connect()
    everything.subscribe("#")
    client(broker.mqtt_port, "someone").connect()
    everything.publish("plain", b"x", qos=1)
    assert [m.topic for m in everything.expect(1)] == ["plain"]
