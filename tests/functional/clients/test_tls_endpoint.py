"""The `wss://` path the clients take on AWS: TLS in front of the WebSocket, the server certificate checked against
a CA file, SigV4 in the upgrade's query string (https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html:
MQTT over WSS on port 443, Signature Version 4). awscrt's client is built by
`awsiot.mqtt5_client_builder.websockets_with_default_aws_signing` here, exactly as against AWS; paho gets an
SSL context. A TLS-terminating proxy with a local CA stands in for the AWS endpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from clients import Client
from clients.targets import Target
from localcore.broker.tls import ensure_local_ca
from localcore.testing import RunningLocalcore
from tests.support.cli import FAST_SCRIPT, new_user
from tests.support.tcp_proxy import CuttableProxy


@pytest.mark.parametrize("transport", ["mqtt5", "paho"])
def test_wss_endpoint_with_a_ca_file(
    fast: tuple[RunningLocalcore, Target], tmp_path: Path, transport
) -> None:
    """Both transports connect to `wss://localhost:<port>` trusting only the given CA, and stream an answer."""
    _, target = fast
    ca = ensure_local_ca(tmp_path)
    session = new_user(target)
    proxy = CuttableProxy(session.config.mqtt_port, tls=ca.server_context())
    session.config = dataclasses.replace(
        session.config, websocket_endpoint=f"wss://localhost:{proxy.port}", ca_file=str(ca.ca_file)
    )
    assert session.config.tls
    try:
        with Client(session, transport=transport) as chat:
            assert chat.ask("over TLS").wait().text == FAST_SCRIPT
    finally:
        proxy.close()
    assert proxy.accepted == 1
