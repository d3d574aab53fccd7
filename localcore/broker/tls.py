"""A local certificate authority and server certificate for localcore's TLS listeners.

Generated on first start under `<state dir>/tls/` and reused afterwards; clients trust `ca.pem`
(the stand-in for AWS's Amazon Root CA). The MQTT TLS listener asks every client for a certificate
(`client_certificate_context`): AWS's port 8883 authenticates devices by X.509 client certificate only
(https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html, "Protocols, port mappings, and
authentication").
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_HOSTNAMES = ("localhost",)
_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class LocalCA:
    """Paths of the CA certificate and the server certificate/key it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_certificate_context(self) -> ssl.SSLContext:
        """A server context that asks for a client certificate and verifies one that is sent against the local
        CA, and against whatever `trust_client_certificate` adds later (issuers, registered certificates).

        A client that sends none still completes the handshake: the authenticator refuses it at CONNECT with
        a reason in the log, which says more than a TLS alert. Any certificate in the trust store is a trust
        anchor (partial chains), so a certificate registered without its CA is accepted as itself.
        """
        context = self.server_context()
        context.verify_mode = ssl.CERT_OPTIONAL
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        context.load_verify_locations(cafile=str(self.ca_file))
        return context


def trust_client_certificate(context: ssl.SSLContext, pem: str) -> None:
    """Accept client certificates that chain to `pem` (or are `pem`) on connections after this call."""
    context.load_verify_locations(cadata=pem)


def self_signed_ca(
    name: x509.Name, key: ec.EllipticCurvePrivateKey, not_after: datetime.datetime
) -> x509.Certificate:
    """A root CA certificate that may sign end-entity certificates only (path length 0)."""
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def write_private(path: Path, data: bytes) -> None:
    """Write a secret (a private key) readable by its owner only."""
    path.write_bytes(data)
    path.chmod(0o600)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _still_valid(cert_file: Path) -> bool:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return cert.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)


def ensure_local_ca(state_dir: Path) -> LocalCA:
    """Create (once) a CA and a server certificate for localhost/127.0.0.1/::1 under `state_dir/tls`."""
    tls_dir = state_dir / "tls"
    ca = LocalCA(tls_dir / "ca.pem", tls_dir / "server.pem", tls_dir / "server.key")
    if ca.ca_file.exists() and ca.cert_file.exists() and ca.key_file.exists() and _still_valid(ca.cert_file):
        return ca
    tls_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localcore local CA")])
    ca_cert = self_signed_ca(ca_name, ca_key, now + datetime.timedelta(days=3650))
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in _HOSTNAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in _ADDRESSES]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(tls_dir / "ca.key", key_pem(ca_key))
    write_private(ca.key_file, key_pem(server_key))
    ca.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    ca.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return ca
