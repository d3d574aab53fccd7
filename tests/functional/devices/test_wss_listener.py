"""localcore's `wss://` listener takes the AWS IoT Device SDK's documented WebSocket builders unmodified: TLS with
the local CA in front of MQTT over WebSockets on `/mqtt`, SigV4 in the upgrade's query string
(https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html: MQTT over WSS, Signature Version 4, 443).
The credentials are a signed-in Cognito identity's, whose attached `user` policy scopes it to `chat/<id>/...`."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from awscrt import mqtt, mqtt5
from awsiot import mqtt5_client_builder, mqtt_connection_builder

from clients.accounts import sign_in_user
from clients.session import Session
from clients.targets import local_target
from localcore.iam.private_files import write_private_json
from localcore.testing import RunningLocalcore


@pytest.fixture(scope="module")
def session(stack: RunningLocalcore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    ready = tmp_path_factory.mktemp("wss") / "ready.json"
    write_private_json(ready, stack.endpoints)
    yield sign_in_user(local_target(Path(ready)), f"wss-{uuid.uuid4().hex[:8]}")


def test_mqtt_connection_builder_websockets_with_default_aws_signing(
    stack: RunningLocalcore, session: Session
) -> None:
    """`mqtt_connection_builder.websockets_with_default_aws_signing` (MQTT 3.1.1) connects to the wss port,
    subscribes to the identity's responses and receives what iot-data publishes there."""
    received: list[bytes] = []
    arrived = threading.Event()

    def on_message(topic: str, payload: bytes, **_: object) -> None:
        received.append(payload)
        arrived.set()

    connection = mqtt_connection_builder.websockets_with_default_aws_signing(
        region=stack.core.config.region,
        credentials_provider=session.credentials_provider(),
        endpoint="localhost",
        port=stack.wss_port,
        client_id=session.client_id("v311"),
        ca_filepath=str(stack.endpoints["ca_file"]),
        clean_session=True,
        keep_alive_secs=30,
    )
    connection.connect().result(10)
    try:
        topic = f"chat/{session.identity_id}/response/+"
        subscribed, _ = connection.subscribe(topic=topic, qos=mqtt.QoS.AT_LEAST_ONCE, callback=on_message)
        assert subscribed.result(10)["qos"] == mqtt.QoS.AT_LEAST_ONCE
        stack.client("iot-data").publish(
            topic=f"chat/{session.identity_id}/response/wss-1", qos=1, payload=b"over wss"
        )
        assert arrived.wait(10)
    finally:
        connection.disconnect().result(10)
    assert received == [b"over wss"]


def test_mqtt5_client_builder_websockets_with_default_aws_signing(
    stack: RunningLocalcore, session: Session
) -> None:
    """The MQTT 5 builder of the same name connects (CONNACK success) and gets its SUBACK granted at QoS 1."""
    connected, stopped = threading.Event(), threading.Event()
    client = mqtt5_client_builder.websockets_with_default_aws_signing(
        endpoint="localhost",
        port=stack.wss_port,
        region=stack.core.config.region,
        credentials_provider=session.credentials_provider(),
        ca_filepath=str(stack.endpoints["ca_file"]),
        client_id=session.client_id("v5"),
        on_lifecycle_connection_success=lambda data: connected.set(),
        on_lifecycle_stopped=lambda data: stopped.set(),
    )
    client.start()
    try:
        assert connected.wait(10)
        packet = mqtt5.SubscribePacket(
            [mqtt5.Subscription(f"chat/{session.identity_id}/response/+", mqtt5.QoS.AT_LEAST_ONCE)]
        )
        suback = client.subscribe(packet).result(10)
        assert suback.reason_codes == [mqtt5.SubackReasonCode.GRANTED_QOS_1]
    finally:
        client.stop()
        assert stopped.wait(10)
