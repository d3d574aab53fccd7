"""Device certificates as AWS IoT issues them (CreateKeysAndCertificate, CreateCertificateFromCsr).

AWS signs them with its own CA, whose subject is the single attribute
`OU=Amazon Web Services O=Amazon.com Inc. L=Seattle ST=Washington C=US` (the value the X.509 policy-variables
page shows for `iot:Certificate.Issuer.*`, https://docs.aws.amazon.com/iot/latest/developerguide/use-policy-variables.html,
"Special characters"); CreateKeysAndCertificate's certificates have the subject `CN=AWS IoT Certificate`, an
RSA 2048-bit key and are valid until the end of 2049. localcore's device CA carries the same subject, so
issuer variables resolve as on AWS; it lives next to the local CA in `<state dir>/tls/device-ca.pem`.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from localcore.broker.tls import key_pem, self_signed_ca, write_private
from localcore.iot.exceptions import InvalidRequestException

AWS_ISSUER = x509.Name(
    [
        x509.NameAttribute(
            NameOID.ORGANIZATIONAL_UNIT_NAME,
            "Amazon Web Services O=Amazon.com Inc. L=Seattle ST=Washington C=US",
        )
    ]
)
AWS_SUBJECT = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AWS IoT Certificate")])
NOT_AFTER = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
MIN_RSA_BITS = 2048
CSR_CURVES = (
    ec.SECP256R1,
    ec.SECP384R1,
    ec.SECP521R1,
)  # API_CreateCertificateFromCsr.html: P-256, P-384, P-521
_DIGITAL_SIGNATURE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class NewKeysAndCertificate:
    """What CreateKeysAndCertificate answers: the certificate and its key pair, all PEM."""

    certificate_pem: str
    public_key_pem: str
    private_key_pem: str


class DeviceIssuer:
    """The account's device CA under `tls_dir`, made on first use and reused afterwards (thread-safe)."""

    def __init__(self, tls_dir: Path) -> None:
        self.cert_file = tls_dir / "device-ca.pem"
        self.key_file = tls_dir / "device-ca.key"
        self._lock = threading.Lock()
        self._ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None

    @property
    def certificate_pem(self) -> str:
        return self._load()[0].public_bytes(serialization.Encoding.PEM).decode()

    def create_keys_and_certificate(self) -> NewKeysAndCertificate:
        """A new RSA 2048 key pair (PKCS#1 PEM, as AWS hands it out) and its certificate."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
        certificate = self._sign(AWS_SUBJECT, key.public_key())
        return NewKeysAndCertificate(
            certificate_pem=certificate,
            public_key_pem=key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode(),
            private_key_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode(),
        )

    def certificate_from_csr(self, csr_pem: str) -> str:
        """A certificate for the CSR's key and subject. AWS accepts RSA keys of 2048 bits or more and the NIST
        P-256/384/521 curves (API_CreateCertificateFromCsr.html); anything else is InvalidRequestException."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as error:
            raise InvalidRequestException(f"certificateSigningRequest is not a PEM CSR: {error}") from None
        if not csr.is_signature_valid:
            raise InvalidRequestException("The certificate signing request's signature does not verify")
        key = csr.public_key()
        if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
            return self._sign(csr.subject, key)
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, CSR_CURVES):
            return self._sign(csr.subject, key)
        raise InvalidRequestException(
            "The CSR's public key must be RSA of at least 2048 bits or ECC on NIST P-256, P-384 or P-521"
        )

    def issued(self, certificate: x509.Certificate) -> bool:
        """Did this device CA sign `certificate`?"""
        try:
            certificate.verify_directly_issued_by(self._load()[0])
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def _sign(self, subject: x509.Name, public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
        ca, ca_key = self._load()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5))
            .not_valid_after(NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_DIGITAL_SIGNATURE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM).decode()

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        with self._lock:
            if self._ca is None:
                self._ca = self._read() or self._create()
            return self._ca

    def _read(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
        if not (self.cert_file.exists() and self.key_file.exists()):
            return None
        key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            return None
        return x509.load_pem_x509_certificate(self.cert_file.read_bytes()), key

    def _create(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        self.cert_file.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        ca = self_signed_ca(AWS_ISSUER, key, NOT_AFTER)
        write_private(self.key_file, key_pem(key))
        self.cert_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        return ca, key
