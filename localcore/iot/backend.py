"""The IoT service's state for one account and region (moto's `IoTBackend`): policies with their versions and
attachments, topic rules, certificates and the thing registry. The HTTP layer (`api.py`, `certificates_api.py`,
`things_api.py`) only parses, calls and serialises; the broker, the rules engine and the policy decisions read this
state directly. Operations that span two stores (deleting a certificate, attaching to a certificate) live here.

The backend implements localcore's snapshot protocol (`localcore/persistence/protocol.py`): one section per
store, so `iotstream up --persist` keeps what was created through the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from localcore.iot.certificates import CertificateStore, StoredCertificate, parse_certificate
from localcore.iot.exceptions import (
    CertificateStateException,
    CertificateValidationException,
    DeleteConflictException,
    ResourceNotFoundException,
)
from localcore.iot.issuer import DeviceIssuer
from localcore.iot.policies import PolicyStore, StoredPolicy
from localcore.iot.things import ThingStore
from localcore.iot.topic_rules import RuleStore


class IotBackend:
    """`policies`, `rules`, `certificates` and `things` (all thread-safe) in `region` and `account`; `issuer`
    signs the certificates CreateKeysAndCertificate and CreateCertificateFromCsr make."""

    def __init__(
        self, region: str = "us-east-1", account: str = "000000000000", issuer: DeviceIssuer | None = None
    ) -> None:
        self.region = region
        self.account = account
        self.policies = PolicyStore(region, account)
        self.rules = RuleStore(region, account)
        self.certificates = CertificateStore(region, account)
        self.things = ThingStore(region, account)
        self._issuer = issuer

    def arn(self, resource: str) -> str:
        """`arn:aws:iot:<region>:<account>:<resource>` (e.g. `policy/<name>`, `rule/<name>`)."""
        return f"arn:aws:iot:{self.region}:{self.account}:{resource}"

    @property
    def issuer(self) -> DeviceIssuer:
        if self._issuer is None:
            raise RuntimeError("this IoT backend was built without a device issuer")
        return self._issuer

    # certificates -------------------------------------------------------------------------------
    def register_certificate(self, pem: str, status: str, ca_pem: str | None) -> StoredCertificate:
        """RegisterCertificate: the certificate must be signed by a CA the account knows. localcore knows its
        device CA only (RegisterCACertificate is not emulated); others go through RegisterCertificateWithoutCA."""
        certificate = parse_certificate(pem)
        if ca_pem is not None and parse_certificate(ca_pem) != parse_certificate(self.issuer.certificate_pem):
            raise CertificateValidationException(
                "caCertificatePem is not a CA registered in this account (localcore knows its device CA only)"
            )
        if not self.issuer.issued(certificate):
            raise CertificateValidationException(
                "The certificate is not signed by a CA registered in this account; "
                "register it with RegisterCertificateWithoutCA"
            )
        return self.certificates.add(pem, status)

    def delete_certificate(self, certificate_id: str, force: bool) -> None:
        """DeleteCertificate: refused while ACTIVE or attached to a thing; attached policies refuse it too, unless
        `force` (forceDelete), which detaches them (API_DeleteCertificate.html)."""
        stored = self.certificates.get(certificate_id)
        if stored.active:
            raise CertificateStateException(
                "The certificate is ACTIVE: deactivate it (UpdateCertificate) first"
            )
        if self.things.things_of(stored.arn):
            raise DeleteConflictException("Things must be detached from the certificate before deletion")
        attached = self.policies.attached_to(stored.arn)
        if attached and not force:
            raise DeleteConflictException("Policies must be detached from the certificate before deletion")
        for policy in attached:
            self.policies.detach(policy.name, stored.arn)
        self.certificates.remove(stored.certificate_id)

    def check_principal(self, principal: str) -> str:
        """A certificate ARN must name an existing certificate; other principals (Cognito identity ids) pass."""
        if (
            principal.startswith("arn:")
            and ":cert/" in principal
            and not self.certificates.from_arn(principal)
        ):
            raise ResourceNotFoundException(f"Certificate {principal} does not exist")
        return principal

    # policy attachments -------------------------------------------------------------------------
    def attach_policy(self, name: str, target: str) -> None:
        self.policies.attach(name, self.check_principal(target))

    def detach_policy(self, name: str, target: str) -> None:
        self.policies.detach(name, self.check_principal(target))

    def attached_policies(self, target: str) -> list[StoredPolicy]:
        return self.policies.attached_to(self.check_principal(target))

    # snapshot protocol ------------------------------------------------------------------------------
    def to_snapshot(self) -> dict[str, Any]:
        return {
            "policies": self.policies.to_snapshot(),
            "rules": self.rules.to_snapshot(),
            "certificates": self.certificates.to_snapshot(),
            "things": self.things.to_snapshot(),
        }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        self.policies.restore(snapshot.get("policies", {}))
        self.rules.restore(snapshot.get("rules", {}))
        self.certificates.restore(snapshot.get("certificates", {}))
        self.things.restore(snapshot.get("things", {}))

    def on_change(self, listener: Callable[[], None]) -> None:
        self.policies.on_change(listener)
        self.rules.on_change(listener)
        self.certificates.on_change(listener)
        self.things.on_change(listener)
