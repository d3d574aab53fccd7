"""Transports: MQTT over WebSockets on /mqtt (awscrt, the AWS IoT Device SDK's engine, and paho), TLS with
the local CA, and the WebSocket handshake verifier (AWS: HTTP 403 on a bad SigV4 upgrade)."""

from __future__ import annotations

import http.client
from concurrent.futures import Future

import pytest
from awscrt import io, mqtt
from awscrt.exceptions import AwsCrtError

from clients.presign import AwsCredentials, presign_mqtt_url
from localcore.broker.authorization import HandshakeRejected
from localcore.identity import CredentialStore, Role, SigV4HandshakeVerifier

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


def _refused_upgrade_body(make_broker, explain: bool) -> tuple[int, str]:
    """Status and body of an upgrade signed with a wrong secret, through the real SigV4 handshake check."""
    store = CredentialStore()
    issued = store.mint_iam(Role("r"), "p")
    running = make_broker(handshake_verifier=SigV4HandshakeVerifier(store, explain=explain))
    wrong = AwsCredentials(issued.access_key_id, "not-the-secret")
    signed = presign_mqtt_url(f"ws://127.0.0.1:{running.ws_port}", wrong, "us-east-1")
    connection = http.client.HTTPConnection("127.0.0.1", running.ws_port, timeout=5)
    try:
        connection.request(
            "GET", signed.path, headers={**UPGRADE_HEADERS, "Host": f"{signed.host}:{signed.port}"}
        )
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_sigv4_refusal_reason_stays_hidden_by_default(make_broker):
    """AWS answers a bad SigV4 upgrade with HTTP 403 and no reason (protocols.html, reference 6.1): the body
    says Forbidden only; the reason goes to localcore's log."""
    status, body = _refused_upgrade_body(make_broker, explain=False)
    assert status == 403 and body == "Forbidden\n"


def test_explain_refusals_puts_the_sigv4_reason_in_the_403_body(make_broker):
    """Development only (`iotstream up --explain-refusals`): the 403 body names why the signature was refused,
    which AWS never does."""
    status, body = _refused_upgrade_body(make_broker, explain=True)
    assert status == 403 and body.startswith("signature_mismatch: ")
