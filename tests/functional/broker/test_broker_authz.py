"""Authorization failures (AWS reference 5.10): connect, publish, subscribe, receive, will."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from localcore.broker import codec
from localcore.broker.testing import MqttTestClient, RuleAuthenticator


@pytest.fixture
def rules():
    return RuleAuthenticator()


@pytest.fixture
def guarded(make_broker, rules):
    return make_broker(authenticator=rules)


def denials(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "localcore.broker.authz"]


def test_bad_credentials_refused_in_connack(guarded, client):
    """AWS: bad credentials → MQTT 5 CONNACK 0x86, then the connection closes."""
    c = client(guarded.mqtt_port, "dev", protocol=5, username="bad")
    c.connect(expect_success=False)
    assert c.connack is not None and c.connack.reason_code == 0x86
    c.wait_disconnected()


@pytest.mark.parametrize(("username", "return_code"), [("bad", 4), (None, 5)])
def test_mqtt311_refusals_use_311_return_codes(guarded, rules, username, return_code):
    """MQTT 3.1.1 §3.2.2.3: CONNACK return code 4 (bad credentials) or 5 (not authorized), then close."""
    rules.deny.add(("iot:Connect", "raw"))
    with socket.create_connection(("127.0.0.1", guarded.mqtt_port), timeout=5) as raw:
        raw.sendall(codec.encode_connect("raw", codec.MQTT311, username=username))
        assert raw.recv(4) == bytes((0x20, 2, 0, return_code))
        assert raw.recv(1) == b""  # closed


@pytest.mark.parametrize(("protocol", "code"), [(5, 0x87), (4, 0x87)])
def test_connect_denied(guarded, rules, client, caplog, protocol, code):
    """AWS: iot:Connect denied → MQTT 5 CONNACK 0x87; 3.1.1 return code 5; one JSON log line."""
    rules.deny.add(("iot:Connect", "intruder"))
    with caplog.at_level(logging.WARNING, logger="localcore.broker.authz"):
        c = client(guarded.mqtt_port, "intruder", protocol=protocol)
        c.connect(expect_success=False)
        assert c.connack.reason_code == code  # paho maps 3.1.1 return code 5 to 0x87
        c.wait_disconnected()
    [line] = denials(caplog)
    assert line == {
        "event": "denied",
        "action": "iot:Connect",
        "resource": "intruder",
        "client_id": "intruder",
        "principal": "intruder",
        "reason": "test denies iot:Connect on intruder",
    }


def test_publish_denied_mqtt5_qos1_gets_puback_0x87(guarded, rules, client):
    """AWS: a denied MQTT 5 QoS 1 publish gets PUBACK 0x87 and the connection stays open."""
    rules.deny.add(("iot:Publish", "secret"))
    c = client(guarded.mqtt_port, "dev", protocol=5).connect()
    assert c.publish("secret", b"x", qos=1) == 0x87
    assert c.publish("open", b"x", qos=1) == 0


def test_publish_denied_mqtt5_qos0_gets_disconnect_0x87(guarded, rules, client):
    """AWS lists DISCONNECT 0x87; a denied QoS 0 publish has no PUBACK, so the broker disconnects (choice)."""
    rules.deny.add(("iot:Publish", "secret"))
    c = client(guarded.mqtt_port, "dev", protocol=5).connect()
    c.publish("secret", b"x", qos=0)
    assert c.wait_disconnected() == 0x87


@pytest.mark.parametrize("qos", [0, 1])
def test_publish_denied_mqtt311_closes(guarded, rules, client, qos):
    """AWS (aws-iot-device-sdk-js #64/#276): a denied MQTT 3.1.1 publish closes the connection."""
    recorder = guarded.record(lambda m: m.topic.startswith("$aws/events/presence/disconnected/"))
    rules.deny.add(("iot:Publish", "secret"))
    c = client(guarded.mqtt_port, "dev", protocol=4).connect()
    c.client.publish("secret", b"x", qos=qos)
    c.wait_disconnected()
    assert json.loads(recorder.wait_for(1)[0].payload)["disconnectReason"] == "AUTH_ERROR"


def test_retain_publish_needs_iot_retainpublish(guarded, rules, client):
    """AWS policies: a retained publish needs iot:RetainPublish in addition to iot:Publish."""
    rules.deny.add(("iot:RetainPublish", "state"))
    c = client(guarded.mqtt_port, "dev", protocol=5).connect()
    assert c.publish("state", b"x", qos=1, retain=True) == 0x87
    assert c.publish("state", b"x", qos=1, retain=False) == 0


def test_subscribe_denied_mqtt5_suback_0x87(guarded, rules, client):
    """AWS: a denied filter gets SUBACK 0x87 on MQTT 5; other filters in the packet are still granted."""
    rules.deny.add(("iot:Subscribe", "chat/+/response/+"))
    c = client(guarded.mqtt_port, "dev", protocol=5).connect()
    assert c.subscribe([("chat/+/response/+", 1), ("chat/me/response/+", 1)]) == [0x87, 1]
    assert c.publish("chat/me/response/1", b"ok", qos=1) == 0


def test_subscribe_denied_mqtt311_suback_failure_then_closed(guarded, rules, client):
    """AWS (aws-iot-device-sdk-js #125): MQTT 3.1.1 subscribe denial → SUBACK 0x80, then the broker closes."""
    rules.deny.add(("iot:Subscribe", "admin/#"))
    c = client(guarded.mqtt_port, "dev", protocol=4).connect()
    assert c.subscribe("admin/#") == [0x80]
    c.wait_disconnected()


def test_receive_denied_is_silently_not_delivered(guarded, rules, client, caplog):
    """AWS: iot:Receive is checked per delivery on the concrete topic; a denied subscriber gets nothing."""
    rules.deny_for["alice"] = {("iot:Receive", "chat/bob/response/1")}
    alice = client(guarded.mqtt_port, "alice", protocol=5, username="alice").connect()
    alice.subscribe("chat/+/response/+")
    watcher = client(guarded.mqtt_port, "watcher", protocol=5, username="watcher").connect()
    watcher.subscribe("chat/+/response/+")
    pub = client(guarded.mqtt_port, "pub", protocol=5).connect()
    with caplog.at_level(logging.WARNING, logger="localcore.broker.authz"):
        pub.publish("chat/bob/response/1", b"bob's", qos=1)
        pub.publish("chat/alice/response/1", b"alice's", qos=1)
        assert [m.payload for m in watcher.expect(2)] == [b"bob's", b"alice's"]
        assert [m.payload for m in alice.expect(1)] == [b"alice's"]
    assert not alice.is_disconnected
    [line] = denials(caplog)
    assert (line["action"], line["resource"], line["principal"]) == (
        "iot:Receive",
        "chat/bob/response/1",
        "alice",
    )


def test_will_requires_publish_permission_at_connect(guarded, rules):
    """A will is a future publish: iot:Publish on its topic is checked at CONNECT (else CONNACK 0x87)."""
    rules.deny.add(("iot:Publish", "wills/dev"))
    c = MqttTestClient(guarded.mqtt_port, "dev", protocol=5)
    c.client.will_set("wills/dev", b"bye")
    try:
        c.connect(expect_success=False)
        assert c.connack.reason_code == 0x87
    finally:
        c.disconnect()


def test_handshake_principal_reaches_authenticator(make_broker, client):
    """The WebSocket HandshakeVerifier's result is handed to the authenticator as handshake_principal."""

    class Verifier:
        def verify(self, path, query, headers):
            return {"identity": query.get("who")}

    rules = RuleAuthenticator()
    running = make_broker(authenticator=rules, handshake_verifier=Verifier())
    c = client(running.ws_port, "ws-dev", protocol=5, transport="websockets")
    c.client.ws_set_options(path="/mqtt?who=alice")
    c.connect()
    assert rules.requests[-1].handshake_principal == {"identity": "alice"}
    assert rules.requests[-1].transport == "ws"
