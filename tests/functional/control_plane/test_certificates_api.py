"""boto3's `iot` client manages X.509 certificates on localcore as the AWS IoT API reference describes them.

Pages: https://docs.aws.amazon.com/iot/latest/apireference/API_CreateKeysAndCertificate.html,
API_CreateCertificateFromCsr, API_RegisterCertificate, API_RegisterCertificateWithoutCA, API_DescribeCertificate,
API_ListCertificates, API_UpdateCertificate, API_DeleteCertificate, and the developer guide's
https://docs.aws.amazon.com/iot/latest/developerguide/revoke-ca-cert.html.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.support.control_plane_stack import iot_client
from tests.support.device_support import self_signed

ALLOW_CONNECT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}
)


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def csr_pem(key: Any, common_name: str = "sensor-csr") -> str:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def test_create_keys_and_certificate_answers_what_aws_issues(control_plane: dict[str, Any]) -> None:
    """CreateKeysAndCertificate: certificateArn/Id/Pem and keyPair {PublicKey, PrivateKey}; the id is the
    SHA-256 of the DER certificate (64 hex characters, the ARN's last part); AWS's certificates have the
    subject `CN=AWS IoT Certificate`, an RSA 2048 key (PKCS#1 PEM) and the issuer
    `OU=Amazon Web Services O=Amazon.com Inc. L=Seattle ST=Washington C=US` (use-policy-variables.html).
    Without setAsActive the certificate is INACTIVE."""
    iot = iot_client(control_plane["url"])
    made = iot.create_keys_and_certificate()
    certificate = x509.load_pem_x509_certificate(made["certificatePem"].encode())
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert made["certificateId"] == hashlib.sha256(der).hexdigest()
    assert made["certificateArn"] == f"arn:aws:iot:us-east-1:000000000000:cert/{made['certificateId']}"
    assert certificate.subject.rfc4514_string() == "CN=AWS IoT Certificate"
    assert certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
        "Amazon Web Services O=Amazon.com Inc. L=Seattle ST=Washington C=US"
    )
    assert made["keyPair"]["PrivateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    key = serialization.load_pem_private_key(made["keyPair"]["PrivateKey"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert key.public_key() == certificate.public_key()
    description = iot.describe_certificate(certificateId=made["certificateId"])["certificateDescription"]
    assert description["status"] == "INACTIVE"
    assert description["certificatePem"] == made["certificatePem"]
    assert description["ownedBy"] == "000000000000"
    assert description["certificateMode"] == "DEFAULT"
    assert description["validity"]["notAfter"].year == 2049
    assert "caCertificateId" not in description and "transferData" not in description


def test_certificate_from_csr_keeps_the_key_and_refuses_weak_ones(control_plane: dict[str, Any]) -> None:
    """CreateCertificateFromCsr signs the CSR's key (the device keeps its private key); the same CSR twice gives
    two distinct certificates; RSA under 2048 bits, or a curve other than P-256/384/521, is
    InvalidRequestException (API_CreateCertificateFromCsr.html)."""
    iot = iot_client(control_plane["url"])
    key = ec.generate_private_key(ec.SECP256R1())
    request = csr_pem(key)
    first = iot.create_certificate_from_csr(certificateSigningRequest=request, setAsActive=True)
    second = iot.create_certificate_from_csr(certificateSigningRequest=request)
    assert first["certificateId"] != second["certificateId"]
    certificate = x509.load_pem_x509_certificate(first["certificatePem"].encode())
    assert certificate.public_key() == key.public_key()
    assert certificate.subject.rfc4514_string() == "CN=sensor-csr"
    status = iot.describe_certificate(certificateId=first["certificateId"])["certificateDescription"][
        "status"
    ]
    assert status == "ACTIVE"
    for weak in (rsa.generate_private_key(65537, 1024), ec.generate_private_key(ec.SECP256K1())):
        with pytest.raises(ClientError) as refused:
            iot.create_certificate_from_csr(certificateSigningRequest=csr_pem(weak))
        assert error_code(refused) == "InvalidRequestException"
    with pytest.raises(ClientError) as garbage:
        iot.create_certificate_from_csr(certificateSigningRequest="not a csr")
    assert error_code(garbage) == "InvalidRequestException"


def test_register_certificate_with_and_without_ca(control_plane: dict[str, Any]) -> None:
    """RegisterCertificateWithoutCA takes any X.509 certificate; RegisterCertificate only one signed by a CA
    the account knows (CertificateValidationException otherwise); registering the same certificate twice is
    ResourceAlreadyExistsException; a body that is no certificate is CertificateValidationException."""
    iot = iot_client(control_plane["url"])
    _, foreign = self_signed("foreign device")
    with pytest.raises(ClientError) as unknown_ca:
        iot.register_certificate(certificatePem=foreign, status="ACTIVE")
    assert error_code(unknown_ca) == "CertificateValidationException"
    registered = iot.register_certificate_without_ca(certificatePem=foreign, status="ACTIVE")
    description = iot.describe_certificate(certificateId=registered["certificateId"])[
        "certificateDescription"
    ]
    assert description["status"] == "ACTIVE"
    with pytest.raises(ClientError) as again:
        iot.register_certificate_without_ca(certificatePem=foreign)
    assert error_code(again) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as garbage:
        iot.register_certificate_without_ca(certificatePem="-----BEGIN CERTIFICATE-----\nnope\n")
    assert error_code(garbage) == "CertificateValidationException"
    # A certificate the device CA signed (here: made from a CSR, then deleted) registers with RegisterCertificate.
    key = ec.generate_private_key(ec.SECP384R1())
    issued = iot.create_certificate_from_csr(certificateSigningRequest=csr_pem(key))
    iot.delete_certificate(certificateId=issued["certificateId"])
    again_registered = iot.register_certificate(certificatePem=issued["certificatePem"])
    assert again_registered["certificateId"] == issued["certificateId"]
    status = iot.describe_certificate(certificateId=issued["certificateId"])["certificateDescription"][
        "status"
    ]
    assert status == "INACTIVE"


def test_update_certificate_statuses(control_plane: dict[str, Any]) -> None:
    """UpdateCertificate is idempotent; PENDING_TRANSFER and PENDING_ACTIVATION cannot be set
    (InvalidRequestException); once REVOKED a certificate's status can't be changed (CertificateStateException,
    revoke-ca-cert.html); an unknown id is ResourceNotFoundException."""
    iot = iot_client(control_plane["url"])
    certificate_id = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")
    iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")
    iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    with pytest.raises(ClientError) as internal:
        iot.update_certificate(certificateId=certificate_id, newStatus="PENDING_TRANSFER")
    assert error_code(internal) == "InvalidRequestException"
    iot.update_certificate(certificateId=certificate_id, newStatus="REVOKED")
    iot.update_certificate(certificateId=certificate_id, newStatus="REVOKED")
    with pytest.raises(ClientError) as revoked:
        iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    assert error_code(revoked) == "CertificateStateException"
    assert revoked.value.response["ResponseMetadata"]["HTTPStatusCode"] == 406
    with pytest.raises(ClientError) as missing:
        iot.update_certificate(certificateId="0" * 64, newStatus="ACTIVE")
    assert error_code(missing) == "ResourceNotFoundException"


def test_delete_certificate_rules(control_plane: dict[str, Any]) -> None:
    """DeleteCertificate: an ACTIVE certificate is CertificateStateException; one attached to a thing or a
    policy is DeleteConflictException; forceDelete detaches the policies (not the things)."""
    iot = iot_client(control_plane["url"])
    made = iot.create_keys_and_certificate(setAsActive=True)
    certificate_id, arn = made["certificateId"], made["certificateArn"]
    with pytest.raises(ClientError) as active:
        iot.delete_certificate(certificateId=certificate_id)
    assert error_code(active) == "CertificateStateException"
    iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")
    iot.create_policy(policyName="delete-rules", policyDocument=ALLOW_CONNECT)
    iot.attach_policy(policyName="delete-rules", target=arn)
    iot.create_thing(thingName="delete-rules-thing")
    iot.attach_thing_principal(thingName="delete-rules-thing", principal=arn)
    with pytest.raises(ClientError) as thing_attached:
        iot.delete_certificate(certificateId=certificate_id, forceDelete=True)
    assert error_code(thing_attached) == "DeleteConflictException"
    iot.detach_thing_principal(thingName="delete-rules-thing", principal=arn)
    with pytest.raises(ClientError) as policy_attached:
        iot.delete_certificate(certificateId=certificate_id)
    assert error_code(policy_attached) == "DeleteConflictException"
    iot.delete_certificate(certificateId=certificate_id, forceDelete=True)
    assert iot.list_targets_for_policy(policyName="delete-rules")["targets"] == []
    with pytest.raises(ClientError) as gone:
        iot.describe_certificate(certificateId=certificate_id)
    assert error_code(gone) == "ResourceNotFoundException"


def test_list_certificates_pages_in_order(control_plane: dict[str, Any]) -> None:
    """ListCertificates: `Certificate` items (certificateArn, certificateId, status, certificateMode,
    creationDate), pageSize 1-250 with nextMarker, isAscendingOrder; boto3's paginator walks the pages."""
    iot = iot_client(control_plane["url"])
    made = [iot.create_keys_and_certificate()["certificateId"] for _ in range(3)]
    first = iot.list_certificates(pageSize=2)
    assert len(first["certificates"]) == 2 and "nextMarker" in first
    assert set(first["certificates"][0]) == {
        "certificateArn",
        "certificateId",
        "status",
        "certificateMode",
        "creationDate",
    }
    pages = iot.get_paginator("list_certificates").paginate(PaginationConfig={"PageSize": 2})
    listed = [c["certificateId"] for page in pages for c in page["certificates"]]
    assert listed[-3:] == made
    newest_first = [c["certificateId"] for c in iot.list_certificates(ascendingOrder=False)["certificates"]]
    assert newest_first[:3] == made[::-1]
    with pytest.raises(ClientError) as too_big:
        iot.list_certificates(pageSize=251)
    assert error_code(too_big) == "InvalidRequestException"


def test_policies_attach_to_certificates_that_exist(control_plane: dict[str, Any]) -> None:
    """AttachPolicy / ListAttachedPolicies / DetachPolicy with a certificate ARN target; an ARN naming no
    certificate is ResourceNotFoundException (API_AttachPolicy.html lists it)."""
    iot = iot_client(control_plane["url"])
    arn = iot.create_keys_and_certificate()["certificateArn"]
    iot.create_policy(policyName="on-a-certificate", policyDocument=ALLOW_CONNECT)
    iot.attach_policy(policyName="on-a-certificate", target=arn)
    assert [p["policyName"] for p in iot.list_attached_policies(target=arn)["policies"]] == [
        "on-a-certificate"
    ]
    assert arn in iot.list_targets_for_policy(policyName="on-a-certificate")["targets"]
    iot.detach_policy(policyName="on-a-certificate", target=arn)
    assert iot.list_attached_policies(target=arn)["policies"] == []
    missing = arn.rsplit("/", 1)[0] + "/" + "f" * 64
    for call in (
        lambda: iot.attach_policy(policyName="on-a-certificate", target=missing),
        lambda: iot.list_attached_policies(target=missing),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert error_code(refused) == "ResourceNotFoundException"
