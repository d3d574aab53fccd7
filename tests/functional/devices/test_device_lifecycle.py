"""A device made with boto3 connects with paho and its client certificate, publishes telemetry through a rule,
and is cut off when its certificate is revoked.

AWS pages: https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html (port 8883: MQTT with X.509
client certificates), https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html
("Certificates must be in the ACTIVE state to authenticate devices"; leaving ACTIVE disconnects the devices
using the certificate), https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html
(`principal()`: the certificate id for X.509 clients), republish-rule-action.html.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from localcore.testing import RunningLocalcore
from tests.support.device_support import THING_POLICY, provision, unique

NOT_AUTHORIZED = 0x87


class PahoDevice:
    """Plain paho, configured exactly as a device connecting to AWS IoT Core would be (tls_set with the CA,
    the certificate and the private key), recording CONNACK and DISCONNECT reason codes."""

    def __init__(self, client_id: str, ca_file: str, cert_file: Path, key_file: Path) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        self.client.tls_set(ca_certs=ca_file, certfile=str(cert_file), keyfile=str(key_file))
        self.connack: int | None = None
        self.disconnect_code: int | None = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connack = reason.value
        self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.disconnect_code = reason.value
        self.disconnected.set()
        self.connected.set()

    def connect(self, port: int) -> int | None:
        self.client.connect("localhost", port)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK"
        return self.connack

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_boto3_device_publishes_with_paho_and_a_revoked_certificate_is_cut_off(
    stack: RunningLocalcore, tmp_path: Path
) -> None:
    """CreateKeysAndCertificate + CreatePolicy + AttachPolicy + CreateThing + AttachThingPrincipal, then paho
    with the certificate: its telemetry reaches a republish rule (principal() is the certificate id) and a
    watching device. UpdateCertificate REVOKED closes the live connection (MQTT 5 DISCONNECT 0x87) and the
    same certificate is refused at the next CONNECT (CONNACK 0x87)."""
    iot = stack.client("iot")
    ca_file = str(stack.endpoints["ca_file"])
    sensor = provision(iot, tmp_path)
    watcher = provision(iot, tmp_path)
    rule = unique("telemetry").replace("-", "_")
    iot.create_topic_rule(
        ruleName=rule,
        topicRulePayload={
            "sql": f"SELECT temperature, principal() AS principal FROM 'things/{sensor.thing}/telemetry'",
            "awsIotSqlVersion": "2016-03-23",
            "actions": [
                {
                    "republish": {
                        "topic": f"things/{watcher.thing}/fleet",
                        "roleArn": "arn:aws:iam::000000000000:role/republish",
                        "qos": 1,
                    }
                }
            ],
        },
    )
    with stack.device_client(watcher) as watching:
        watching.connect()
        assert watching.subscribe(f"things/{watcher.thing}/fleet", qos=1) == [1]
        device = PahoDevice(sensor.thing, ca_file, sensor.cert_file, sensor.key_file)
        assert device.connect(stack.mqtts_port) == 0
        sent = device.client.publish(
            f"things/{sensor.thing}/telemetry", json.dumps({"temperature": 21.5}), qos=1
        )
        sent.wait_for_publish(10)
        (message,) = watching.expect(1)
        assert json.loads(message.payload) == {"temperature": 21.5, "principal": sensor.certificate_id}

        iot.update_certificate(certificateId=sensor.certificate_id, newStatus="REVOKED")
        assert device.disconnected.wait(10)
        assert device.disconnect_code == NOT_AUTHORIZED
        device.stop()
        again = PahoDevice(sensor.thing, ca_file, sensor.cert_file, sensor.key_file)
        assert again.connect(stack.mqtts_port) == NOT_AUTHORIZED
        again.stop()
        assert not watching.is_disconnected  # only the revoked certificate's connections are closed


def test_an_inactive_certificate_connects_once_activated(stack: RunningLocalcore, tmp_path: Path) -> None:
    """A certificate made without setAsActive is INACTIVE and refused (CONNACK 0x87 on MQTT 5, return code 5
    on 3.1.1, which paho reports as 0x87 too); UpdateCertificate ACTIVE lets the same device in."""
    iot = stack.client("iot")
    device = provision(iot, tmp_path, active=False)
    refused = stack.device_client(device).connect(expect_success=False)
    assert refused.connack is not None and refused.connack.reason_code == NOT_AUTHORIZED
    refused.disconnect()
    refused_311 = stack.device_client(device, protocol=4).connect(expect_success=False)
    assert refused_311.connack is not None and refused_311.connack.reason_code == NOT_AUTHORIZED
    refused_311.disconnect()
    iot.update_certificate(certificateId=device.certificate_id, newStatus="ACTIVE")
    with stack.device_client(device) as client:
        client.connect()
        assert client.publish(f"things/{device.thing}/status", b"up", qos=1) == 0


def test_tls_without_a_client_certificate_is_refused(stack: RunningLocalcore) -> None:
    """AWS's port 8883 authenticates with X.509 client certificates only (protocols.html): a TLS client that
    sends none gets CONNACK 0x87, whatever its username (local mode is for the plain MQTT port)."""
    from localcore.broker.testing import MqttTestClient

    identity = "us-east-1:00000000-0000-0000-0000-000000000001"
    client = MqttTestClient(
        stack.mqtts_port,
        identity,
        username=identity,
        host="localhost",
        tls_ca=str(stack.endpoints["ca_file"]),
    )
    client.connect(expect_success=False)
    assert client.connack is not None and client.connack.reason_code == NOT_AUTHORIZED
    client.disconnect()


def test_the_policy_decides_what_the_device_may_do(stack: RunningLocalcore, tmp_path: Path) -> None:
    """The certificate's attached policy (THING_POLICY, AWS's thing-policy shape) decides: its own topics are
    allowed, another thing's are not (PUBACK / SUBACK 0x87); a client id other than the thing name cannot
    connect (non-exclusive association: the client id must be the thing name, thing-policy-variables.html)."""
    iot = stack.client("iot")
    device = provision(iot, tmp_path, THING_POLICY)
    with stack.device_client(device) as client:
        client.connect()
        assert client.subscribe(f"things/{device.thing}/commands") == [1]
        assert client.subscribe("things/someone-else/commands") == [NOT_AUTHORIZED]
        assert client.publish(f"things/{device.thing}/telemetry", b"{}", qos=1) == 0
        assert client.publish("things/someone-else/telemetry", b"{}", qos=1) == NOT_AUTHORIZED
    impostor = stack.device_client(device, client_id="not-the-thing").connect(expect_success=False)
    assert impostor.connack is not None and impostor.connack.reason_code == NOT_AUTHORIZED
    impostor.disconnect()
