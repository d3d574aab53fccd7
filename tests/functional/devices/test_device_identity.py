"""Where a device's identity comes from, and what its policy variables resolve to on a live connection.

AWS pages: https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCertificateWithoutCA.html,
API_CreateCertificateFromCsr.html, https://docs.aws.amazon.com/iot/latest/developerguide/cert-policy-variables.html,
https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html and exclusive-thing.html
(an EXCLUSIVE_THING certificate resolves its thing whatever the client id; otherwise the client id must be the
thing name).
"""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localcore.broker.testing import MqttTestClient
from localcore.testing import Device, RunningLocalcore
from tests.support.device_support import (
    provision,
    self_signed,
    unique,
    write_key_and_certificate,
)

NOT_AUTHORIZED = 0x87


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def attach(iot: Any, certificate_arn: str, document: dict[str, Any]) -> None:
    name = unique("policy")
    iot.create_policy(policyName=name, policyDocument=json.dumps(document))
    iot.attach_policy(policyName=name, target=certificate_arn)


class LogWaiter(logging.Handler):
    """Sets `found` when a record containing `text` is logged (from any thread)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.WARNING)
        self.text = text
        self.message = ""
        self.found = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.message = record.getMessage()
            self.found.set()


def test_a_certificate_from_another_ca_connects_once_registered(
    stack: RunningLocalcore, tmp_path: Path
) -> None:
    """A self-signed certificate localcore never saw fails the TLS handshake (no trusted issuer; localcore's log
    says how to register it); after RegisterCertificateWithoutCA (ACTIVE) and a policy, the same files connect,
    with no restart."""
    iot = stack.client("iot")
    key, pem = self_signed("bring-your-own")
    cert_file, key_file = write_key_and_certificate(tmp_path, key, pem)
    ca_file = str(stack.endpoints["ca_file"])
    stranger = MqttTestClient(
        stack.mqtts_port, "byo-1", host="localhost", tls_ca=ca_file, tls_cert=(str(cert_file), str(key_file))
    )
    refusal = LogWaiter("TLS handshake")
    listeners_log = logging.getLogger("localcore.broker.listeners")
    listeners_log.addHandler(refusal)
    try:
        # TLS 1.2 fails in the handshake; TLS 1.3 reports the server's alert on the first read
        with contextlib.suppress(ssl.SSLError, ConnectionError, OSError):
            stranger.connect(timeout=10, expect_success=False)
        stranger.disconnect()
        assert refusal.found.wait(10)  # the server logs after it has sent its alert
    finally:
        listeners_log.removeHandler(refusal)
    assert stranger.connack is None
    assert "RegisterCertificateWithoutCA" in refusal.message
    registered = iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")
    attach(iot, registered["certificateArn"], policy(allow("iot:Connect", "arn:aws:iot:*:*:client/byo-*")))
    with MqttTestClient(
        stack.mqtts_port, "byo-1", host="localhost", tls_ca=ca_file, tls_cert=(str(cert_file), str(key_file))
    ) as client:
        client.connect()


def test_a_csr_certificate_and_its_subject_variables(stack: RunningLocalcore, tmp_path: Path) -> None:
    """CreateCertificateFromCsr: the device keeps its own private key; a policy allowing
    `client/${iot:Certificate.Subject.CommonName}` lets it connect with its common name as client id only."""
    iot = stack.client("iot")
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = unique("meter")
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    made = iot.create_certificate_from_csr(certificateSigningRequest=request, setAsActive=True)
    attach(
        iot,
        made["certificateArn"],
        policy(allow("iot:Connect", "arn:aws:iot:*:*:client/${iot:Certificate.Subject.CommonName}")),
    )
    cert_file, key_file = write_key_and_certificate(tmp_path, key, made["certificatePem"])
    device = Device(common_name, made["certificateId"], made["certificateArn"], cert_file, key_file)
    with stack.device_client(device) as client:
        client.connect()
    other = stack.device_client(device, client_id="another-name").connect(expect_success=False)
    assert other.connack is not None and other.connack.reason_code == NOT_AUTHORIZED
    other.disconnect()


THING_TOPICS = policy(
    allow("iot:Connect", "*", Bool={"iot:Connection.Thing.IsAttached": "true"}),
    allow("iot:Publish", "arn:aws:iot:*:*:topic/things/${iot:Connection.Thing.ThingName}/*"),
    allow("iot:Publish", "arn:aws:iot:*:*:topic/fleets/${iot:Connection.Thing.Attributes[fleet]}/*"),
)


def test_an_exclusive_thing_resolves_whatever_the_client_id(stack: RunningLocalcore, tmp_path: Path) -> None:
    """EXCLUSIVE_THING: the thing name and its attributes resolve for any client id; detaching the thing while
    connected applies at once (the next decisions find no thing)."""
    iot = stack.client("iot")
    device = provision(iot, tmp_path, THING_TOPICS)
    iot.update_thing(thingName=device.thing, attributePayload={"attributes": {"fleet": "north"}})
    iot.attach_thing_principal(
        thingName=device.thing, principal=device.certificate_arn, thingPrincipalType="EXCLUSIVE_THING"
    )
    with stack.device_client(device, client_id=unique("any-client-id")) as client:
        client.connect()
        assert client.publish(f"things/{device.thing}/telemetry", b"{}", qos=1) == 0
        assert client.publish("fleets/north/telemetry", b"{}", qos=1) == 0
        assert client.publish("fleets/south/telemetry", b"{}", qos=1) == NOT_AUTHORIZED
        iot.detach_thing_principal(thingName=device.thing, principal=device.certificate_arn)
        assert client.publish(f"things/{device.thing}/status", b"{}", qos=1) == NOT_AUTHORIZED


@pytest.mark.parametrize("client_id", ["thing-name", "other-client-id"])
def test_a_non_exclusive_thing_needs_the_thing_name_as_client_id(
    stack: RunningLocalcore, tmp_path: Path, client_id: str
) -> None:
    """Non-exclusive association (the default): `iot:Connection.Thing.IsAttached` is true only when the client
    id is the name of a thing attached to the certificate, so `Connect` with that condition admits exactly
    that client id."""
    device = provision(stack.client("iot"), tmp_path, THING_TOPICS)
    connecting = device.thing if client_id == "thing-name" else client_id
    client = stack.device_client(device, client_id=connecting).connect(expect_success=False)
    assert client.connack is not None
    assert client.connack.reason_code == (0 if client_id == "thing-name" else NOT_AUTHORIZED)
    client.disconnect()
