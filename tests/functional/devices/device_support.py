"""Devices made the AWS way with boto3 (certificate + policy + thing), for the device tests."""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore

# A device policy in the shape of AWS's thing-policy examples (thing-policy-examples.html): connect only as the
# attached thing, publish and receive under things/<thing>/..., subscribe to its own filters.
THING_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}",
            "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
        },
        {
            "Effect": "Allow",
            "Action": ["iot:Publish", "iot:Receive"],
            "Resource": "arn:aws:iot:*:*:topic/things/${iot:Connection.Thing.ThingName}/*",
        },
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": "arn:aws:iot:*:*:topicfilter/things/${iot:Connection.Thing.ThingName}/*",
        },
    ],
}


@dataclass(frozen=True)
class Device:
    """A provisioned device: its thing, certificate and the files a device would hold."""

    thing: str
    certificate_id: str
    certificate_arn: str
    cert_file: Path
    key_file: Path

    @property
    def tls_cert(self) -> tuple[str, str]:
        return str(self.cert_file), str(self.key_file)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def provision(
    iot: Any,
    folder: Path,
    policy: dict[str, Any] | None = None,
    thing: str | None = None,
    active: bool = True,
) -> Device:
    """CreateKeysAndCertificate + CreatePolicy + AttachPolicy + CreateThing + AttachThingPrincipal, as a
    provisioning script does against AWS; the certificate and private key land in `folder`."""
    thing = thing or unique("sensor")
    keys = iot.create_keys_and_certificate(setAsActive=active)
    policy_name = unique("device-policy")
    iot.create_policy(policyName=policy_name, policyDocument=json.dumps(policy or THING_POLICY))
    iot.attach_policy(policyName=policy_name, target=keys["certificateArn"])
    iot.create_thing(thingName=thing)
    iot.attach_thing_principal(thingName=thing, principal=keys["certificateArn"])
    cert_file, key_file = folder / f"{thing}.pem.crt", folder / f"{thing}-private.pem.key"
    cert_file.write_text(keys["certificatePem"])
    key_file.write_text(keys["keyPair"]["PrivateKey"])
    key_file.chmod(0o600)
    return Device(thing, keys["certificateId"], keys["certificateArn"], cert_file, key_file)


def device_client(
    stack: RunningLocalcore, device: Device, client_id: str | None = None, protocol: int = 5
) -> MqttTestClient:
    """An MqttTestClient (paho) on the TLS listener with the device's certificate and key."""
    return MqttTestClient(
        stack.mqtts_port,
        client_id if client_id is not None else device.thing,
        protocol=protocol,
        host="localhost",
        tls_ca=str(stack.endpoints["ca_file"]),
        tls_cert=device.tls_cert,
    )


def self_signed(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A key and a certificate from a CA localcore does not know (what RegisterCertificateWithoutCA is for)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def write_key_and_certificate(folder: Path, key: ec.EllipticCurvePrivateKey, pem: str) -> tuple[Path, Path]:
    """The files a device holds: its certificate and its private key (PKCS#8 PEM)."""
    stem = uuid.uuid4().hex[:8]
    cert_file, key_file = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_file.write_text(pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file
