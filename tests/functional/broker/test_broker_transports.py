"""Transports: MQTT over WebSockets on /mqtt (awscrt, the AWS IoT Device SDK's engine, and paho), TLS with
the local CA, and the WebSocket handshake verifier (AWS: HTTP 403 on a bad SigV4 upgrade)."""

from __future__ import annotations

import http.client
from concurrent.futures import Future

import pytest
from awscrt import io, mqtt
from awscrt.exceptions import AwsCrtError

from localcore.broker.authorization import HandshakeRejected

UPGRADE_HEADERS = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Protocol": "mqtt",
}


def crt_connection(port: int, client_id: str, **kwargs) -> mqtt.Connection:
    bootstrap = io.ClientBootstrap.get_or_create_static_default()
    return mqtt.Connection(
        mqtt.Client(bootstrap, tls_ctx=None),
        "127.0.0.1",
        port,
        client_id,
        use_websockets=True,
        keep_alive_secs=60,
        **kwargs,
    )


def test_awscrt_websocket_client_pub_sub(broker, client):
    """AWS IoT Device SDK v2 (awscrt) connects over WebSockets to /mqtt and exchanges QoS 1 messages."""
    connection = crt_connection(broker.ws_port, "crt-client")
    connection.connect().result(10)
    got: Future[tuple[str, bytes]] = Future()
    subscribe_future, _ = connection.subscribe(
        "crt/in",
        mqtt.QoS.AT_LEAST_ONCE,
        callback=lambda topic, payload, **kw: got.set_result((topic, payload)),
    )
    assert subscribe_future.result(10)["qos"] == mqtt.QoS.AT_LEAST_ONCE
    paho_client = client(broker.mqtt_port, "paho").connect()
    paho_client.subscribe("crt/out")
    paho_client.publish("crt/in", b"to-crt", qos=1)
    assert got.result(10) == ("crt/in", b"to-crt")
    publish_future, _ = connection.publish("crt/out", b"from-crt", mqtt.QoS.AT_LEAST_ONCE)
    publish_future.result(10)
    assert paho_client.expect(1)[0].payload == b"from-crt"
    connection.disconnect().result(10)


def test_paho_websocket_transport(broker, client):
    """paho over WebSockets (subprotocol mqtt) on /mqtt, MQTT 5."""
    c = client(broker.ws_port, "paho-ws", protocol=5, transport="websockets").connect()
    c.subscribe("ws/t")
    c.publish("ws/t", b"round trip", qos=1)
    assert c.expect(1)[0].payload == b"round trip"


def test_websocket_wrong_path_is_404(broker):
    """AWS serves MQTT over WebSockets only on /mqtt."""
    connection = http.client.HTTPConnection("127.0.0.1", broker.ws_port, timeout=5)
    connection.request("GET", "/other", headers=UPGRADE_HEADERS)
    assert connection.getresponse().status == 404


def test_handshake_verifier_rejection_is_http_403(make_broker):
    """AWS reference 6.1: a bad SigV4 signature on the upgrade gets HTTP 403 before any MQTT byte."""

    class Reject:
        def verify(self, path, query, headers):
            raise HandshakeRejected(403, "signature does not match")

    running = make_broker(handshake_verifier=Reject())
    with pytest.raises(AwsCrtError) as error:
        crt_connection(running.ws_port, "rejected").connect().result(10)
    assert error.value.name == "AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE"
    connection = http.client.HTTPConnection("127.0.0.1", running.ws_port, timeout=5)
    connection.request("GET", "/mqtt", headers=UPGRADE_HEADERS)
    assert connection.getresponse().status == 403


def test_tls_listener_with_local_ca(make_broker, client, tmp_path):
    """MQTT over TLS (AWS: 8883) verified against the generated local CA; the CA is reused on restart."""
    running = make_broker(tls=True, state_dir=tmp_path)
    ca_file = running.server.endpoints["ca_file"]
    c = client(running.mqtts_port, "tls-client", protocol=5, tls_ca=ca_file, host="localhost").connect()
    c.subscribe("tls/t")
    c.publish("tls/t", b"secure", qos=1)
    assert c.expect(1)[0].payload == b"secure"
    first_ca = (tmp_path / "tls" / "ca.pem").read_bytes()
    again = make_broker(tls=True, state_dir=tmp_path)
    assert (tmp_path / "tls" / "ca.pem").read_bytes() == first_ca
    assert again.server.endpoints["ca_file"] == ca_file
