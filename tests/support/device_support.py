"""Device policies, certificates from other CAs and provisioning defaults for the device tests."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localcore.testing import Device, provision_device

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


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def provision(
    iot: Any,
    folder: Path,
    policy: dict[str, Any] | None = None,
    thing: str | None = None,
    active: bool = True,
) -> Device:
    """`provision_device` with THING_POLICY and a fresh thing name unless given."""
    return provision_device(iot, folder, policy or THING_POLICY, thing or unique("sensor"), active)


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
