"""The account's X.509 certificates: their PEM, status and dates (moto's `FakeCertificate`, plain dataclasses).

A certificate's id is the SHA-256 of its DER encoding, in hex (64 characters, `API_DescribeCertificate.html`
"certificateId": fixed length 64, the last part of the ARN). Only an ACTIVE certificate authenticates a
device; changing it away from ACTIVE disconnects the devices using it, and a REVOKED certificate can never
change status again (https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html,
https://docs.aws.amazon.com/iot/latest/developerguide/revoke-ca-cert.html).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from localcore.iot.exceptions import (
    CertificateStateException,
    CertificateValidationException,
    InvalidRequestException,
    ResourceAlreadyExistsException,
    not_found,
)

STATUSES = ("ACTIVE", "INACTIVE", "REVOKED", "PENDING_TRANSFER", "REGISTER_INACTIVE", "PENDING_ACTIVATION")
INTERNAL_STATUSES = ("PENDING_TRANSFER", "PENDING_ACTIVATION")  # "not intended for developer use"


@dataclass
class StoredCertificate:
    """One certificate as DescribeCertificate shows it."""

    certificate_id: str
    arn: str
    pem: str
    status: str
    created: datetime
    last_modified: datetime
    not_before: datetime
    not_after: datetime

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


def parse_certificate(pem: str) -> x509.Certificate:
    """The X.509 certificate in `pem`; CertificateValidationException when it is not one."""
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as error:
        raise CertificateValidationException(
            f"certificatePem is not a PEM X.509 certificate: {error}"
        ) from None


def certificate_id(der: bytes) -> str:
    """AWS's certificate id: the SHA-256 fingerprint of the DER certificate, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


def check_status(status: str, name: str = "status") -> str:
    if status not in STATUSES:
        raise InvalidRequestException(f"{name} must be one of {', '.join(STATUSES)}")
    return status


class CertificateStore:
    """Certificates by id, thread-safe (read by the broker at CONNECT, written over HTTP)."""

    def __init__(self, region: str = "us-east-1", account: str = "000000000000") -> None:
        self.region = region
        self.account = account
        self._lock = threading.RLock()
        self._certificates: dict[str, StoredCertificate] = {}
        self._added: list[Callable[[StoredCertificate], None]] = []
        self._deactivated: list[Callable[[StoredCertificate], None]] = []
        self._changed: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """`listener()` after any change (the state saver's snapshot protocol)."""
        self._changed.append(listener)

    def _notify(self) -> None:
        for listener in self._changed:
            listener()

    def on_added(self, listener: Callable[[StoredCertificate], None]) -> None:
        """`listener(certificate)` after a certificate is registered (the TLS listener trusts it)."""
        self._added.append(listener)

    def on_deactivated(self, listener: Callable[[StoredCertificate], None]) -> None:
        """`listener(certificate)` after a certificate leaves ACTIVE (the stack closes its connections)."""
        self._deactivated.append(listener)

    def arn(self, certificate_id: str) -> str:
        return f"arn:aws:iot:{self.region}:{self.account}:cert/{certificate_id}"

    def add(self, pem: str, status: str) -> StoredCertificate:
        """Register `pem`; ResourceAlreadyExistsException when the same certificate is already registered."""
        now = datetime.now(UTC)
        stored = self._record(pem, check_status(status), now, now)
        with self._lock:
            if stored.certificate_id in self._certificates:
                raise ResourceAlreadyExistsException("The certificate is already provisioned or registered")
            self._certificates[stored.certificate_id] = stored
        self._announce(stored)
        self._notify()
        return stored

    def _record(self, pem: str, status: str, created: datetime, modified: datetime) -> StoredCertificate:
        certificate = parse_certificate(pem)
        identifier = certificate_id(certificate.public_bytes(serialization.Encoding.DER))
        return StoredCertificate(
            certificate_id=identifier,
            arn=self.arn(identifier),
            pem=pem,
            status=status,
            created=created,
            last_modified=modified,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )

    def _announce(self, stored: StoredCertificate) -> None:
        for listener in self._added:
            listener(stored)

    def get(self, certificate_id: str) -> StoredCertificate:
        with self._lock:
            stored = self._certificates.get(certificate_id.lower().removeprefix("0x"))
        if stored is None:
            raise not_found(f"Certificate {certificate_id}")
        return stored

    def find(self, der: bytes) -> StoredCertificate | None:
        """The registered certificate a TLS client presented, if any."""
        with self._lock:
            return self._certificates.get(certificate_id(der))

    def from_arn(self, arn: str) -> StoredCertificate | None:
        """The certificate an ARN (`arn:aws:iot:<region>:<account>:cert/<id>`) names, if it exists."""
        prefix = self.arn("")
        if not arn.startswith(prefix):
            return None
        with self._lock:
            return self._certificates.get(arn.removeprefix(prefix))

    def list_certificates(self, ascending: bool = True) -> list[StoredCertificate]:
        """Oldest first (newest first with `ascending=False`), as ListCertificates pages them."""
        with self._lock:
            ordered = sorted(self._certificates.values(), key=lambda c: (c.created, c.certificate_id))
        return ordered if ascending else ordered[::-1]

    def set_status(self, certificate_id: str, status: str) -> None:
        """UpdateCertificate: idempotent; PENDING_* cannot be set, and a REVOKED certificate never changes."""
        check_status(status, "newStatus")
        if status in INTERNAL_STATUSES:
            raise InvalidRequestException(
                f"newStatus {status} is used internally by AWS IoT and cannot be set"
            )
        with self._lock:
            stored = self.get(certificate_id)
            if stored.status == status:
                return
            if stored.status == "REVOKED":
                raise CertificateStateException("A REVOKED certificate's status cannot be changed")
            was_active = stored.active
            stored.status = status
            stored.last_modified = datetime.now(UTC)
        if was_active:
            for listener in self._deactivated:
                listener(stored)
        self._notify()

    def remove(self, certificate_id: str) -> StoredCertificate:
        with self._lock:
            stored = self.get(certificate_id)
            del self._certificates[stored.certificate_id]
        self._notify()
        return stored

    # snapshot protocol (localcore/persistence/protocol.py) --------------------------------------
    def to_snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "certificates": [
                    {
                        "pem": c.pem,
                        "status": c.status,
                        "created": c.created.timestamp(),
                        "last_modified": c.last_modified.timestamp(),
                    }
                    for c in self._certificates.values()
                ]
            }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Add the saved certificates (their status and dates too); a bad record raises ValueError naming it."""
        restored: list[StoredCertificate] = []
        for record in snapshot.get("certificates", []):
            try:
                stored = self._record(
                    str(record["pem"]),
                    check_status(str(record["status"])),
                    datetime.fromtimestamp(float(record["created"]), UTC),
                    datetime.fromtimestamp(float(record["last_modified"]), UTC),
                )
            except CertificateValidationException as error:
                raise ValueError(f"a saved certificate: {error}") from None
            except InvalidRequestException as error:
                raise ValueError(f"a saved certificate's status: {error}") from None
            with self._lock:
                if stored.certificate_id not in self._certificates:
                    self._certificates[stored.certificate_id] = stored
                    restored.append(stored)
        for stored in restored:
            self._announce(stored)
