"""paho-mqtt's WebSocket transport with a presigned `/mqtt` URL passes the SigV4 handshake check.

AWS IoT: "MQTT over WebSocket ... SigV4 presigned URL, 403 on a bad signature"
(https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from aiohttp import web
from paho.mqtt.enums import CallbackAPIVersion

from clients.presign import AwsCredentials, presign_mqtt_url
from localcore.broker.authorization import HandshakeRejected
from localcore.http import Gateway
from localcore.http.testing import GatewayThread
from localcore.identity import CredentialStore, Role, SigV4HandshakeVerifier


@dataclass
class Handshake:
    gw: GatewayThread
    store: CredentialStore
    outcomes: list[Any]
    got_frame: threading.Event


@pytest.fixture
def handshake() -> Iterator[Handshake]:
    store = CredentialStore()
    verifier = SigV4HandshakeVerifier(store)
    outcomes: list[Any] = []
    got_frame = threading.Event()

    async def mqtt_ws(request: web.Request) -> web.StreamResponse:
        try:
            caller = verifier.verify(request.raw_path, request.query, request.headers)
        except HandshakeRejected as rejected:
            outcomes.append(rejected.reason)
            return web.Response(status=rejected.status, text=rejected.reason)
        outcomes.append(caller)
        ws = web.WebSocketResponse(protocols=("mqtt",))
        await ws.prepare(request)
        await ws.receive()  # paho's CONNECT packet proves the upgrade completed
        got_frame.set()
        await ws.close()
        return ws

    gateway = Gateway()
    gateway.add_route("GET", "/mqtt", mqtt_ws, service="iot-ws")
    with GatewayThread(gateway) as gw:
        yield Handshake(gw, store, outcomes, got_frame)


def paho_connect(gw: GatewayThread, creds: AwsCredentials) -> None:
    signed = presign_mqtt_url(f"ws://127.0.0.1:{gw.port}", creds, "us-east-1")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="us-east-1:abc", transport="websockets")
    client.ws_set_options(path=signed.path)
    client.connect(signed.host, signed.port, keepalive=30)  # the WebSocket upgrade happens here
    client.loop_write()  # sends CONNECT over the upgraded connection
    sock = client.socket()
    if sock is not None:
        sock.close()


def test_paho_websocket_with_presigned_path_is_accepted(handshake: Handshake) -> None:
    """The same presigned path works for paho against localcore (ws://) as against AWS (wss://)."""
    cred = handshake.store.mint_for_identity("us-east-1:abc", "us-east-1:pool", Role("user"), True, 3600)
    paho_connect(handshake.gw, AwsCredentials(cred.access_key_id, cred.secret_key, cred.session_token))
    assert handshake.got_frame.wait(5)
    outcomes = handshake.outcomes
    assert outcomes[0].identity_id == "us-east-1:abc" and outcomes[0].role.name == "user"


def test_paho_websocket_with_bad_credentials_gets_403(handshake: Handshake) -> None:
    """A wrong secret fails the upgrade with HTTP 403 and paho reports a WebSocket connection error."""
    cred = handshake.store.mint_iam(Role("r"), "p")
    with pytest.raises(mqtt.WebsocketConnectionError):
        paho_connect(handshake.gw, AwsCredentials(cred.access_key_id, "wrong-secret"))
    assert handshake.outcomes == ["signature_mismatch"]
