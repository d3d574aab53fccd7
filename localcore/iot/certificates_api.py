"""The control plane's certificate operations (restJson1, as boto3's `iot` client speaks them).

Request and response shapes follow the AWS IoT API reference:
https://docs.aws.amazon.com/iot/latest/apireference/API_CreateKeysAndCertificate.html, `API_CreateCertificateFromCsr`,
`API_RegisterCertificate`, `API_RegisterCertificateWithoutCA`, `API_DescribeCertificate`, `API_ListCertificates`,
`API_UpdateCertificate`, `API_DeleteCertificate`. IAM authorizes each call on the certificate's ARN (`cert/<id>`)
or, for the operations that make one, on `*`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from localcore.http.gateway import Gateway
from localcore.iot.certificates import StoredCertificate, check_status
from localcore.iot.exceptions import InvalidRequestException
from localcore.iot.wire import IotRoutes, json_body, page, query_flag


class CertificatesApi(IotRoutes):
    """Routes for device certificates."""

    def mount(self, gateway: Gateway) -> None:
        for method, path, handler in (
            ("POST", "/keys-and-certificate", self.create_keys_and_certificate),
            ("POST", "/certificates", self.create_certificate_from_csr),
            ("POST", "/certificate/register", self.register_certificate),
            ("POST", "/certificate/register-no-ca", self.register_certificate_without_ca),
            ("GET", "/certificates", self.list_certificates),
            ("GET", "/certificates/{id}", self.describe_certificate),
            ("PUT", "/certificates/{id}", self.update_certificate),
            ("DELETE", "/certificates/{id}", self.delete_certificate),
        ):
            gateway.add_route(method, path, handler, service="iot")

    async def create_keys_and_certificate(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, "iot:CreateKeysAndCertificate")
        made = self.backend.issuer.create_keys_and_certificate()
        stored = self.backend.certificates.add(made.certificate_pem, _initial_status(request))
        return web.json_response(
            {
                **_created(stored),
                "certificatePem": stored.pem,
                "keyPair": {"PublicKey": made.public_key_pem, "PrivateKey": made.private_key_pem},
            }
        )

    async def create_certificate_from_csr(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, "iot:CreateCertificateFromCsr")
        csr = _text(await json_body(request), "certificateSigningRequest")
        pem = self.backend.issuer.certificate_from_csr(csr)
        stored = self.backend.certificates.add(pem, _initial_status(request))
        return web.json_response({**_created(stored), "certificatePem": stored.pem})

    async def register_certificate(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, "iot:RegisterCertificate")
        body = await json_body(request)
        ca_pem = body.get("caCertificatePem")
        if ca_pem is not None and not isinstance(ca_pem, str):
            raise InvalidRequestException("caCertificatePem must be a string")
        stored = self.backend.register_certificate(
            _text(body, "certificatePem"), _registered_status(request, body), ca_pem
        )
        return web.json_response(_created(stored))

    async def register_certificate_without_ca(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, "iot:RegisterCertificateWithoutCA")
        body = await json_body(request)
        stored = self.backend.certificates.add(
            _text(body, "certificatePem"), _registered_status(request, body)
        )
        return web.json_response(_created(stored))

    async def describe_certificate(self, request: web.Request) -> web.StreamResponse:
        certificate_id = request.match_info["id"]
        await self.authorize(request, "iot:DescribeCertificate", f"cert/{certificate_id}")
        stored = self.backend.certificates.get(certificate_id)
        return web.json_response({"certificateDescription": _description(stored, self.backend.account)})

    async def list_certificates(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, "iot:ListCertificates")
        ordered = self.backend.certificates.list_certificates(query_flag(request, "isAscendingOrder", True))
        items, following = page(ordered, request.query.get("marker"), request.query.get("pageSize"))
        body: dict[str, Any] = {"certificates": [_summary(c) for c in items]}
        if following is not None:
            body["nextMarker"] = following
        return web.json_response(body)

    async def update_certificate(self, request: web.Request) -> web.StreamResponse:
        """Leaving ACTIVE closes the certificate's live connections (the stack listens to the store)."""
        certificate_id = request.match_info["id"]
        await self.authorize(request, "iot:UpdateCertificate", f"cert/{certificate_id}")
        status = request.query.get("newStatus")
        if status is None:
            raise InvalidRequestException("newStatus is required")
        self.backend.certificates.set_status(certificate_id, status)
        return web.json_response({})

    async def delete_certificate(self, request: web.Request) -> web.StreamResponse:
        certificate_id = request.match_info["id"]
        await self.authorize(request, "iot:DeleteCertificate", f"cert/{certificate_id}")
        self.backend.delete_certificate(certificate_id, query_flag(request, "forceDelete"))
        return web.json_response({})


def _initial_status(request: web.Request) -> str:
    """`setAsActive` (default false): a new certificate is INACTIVE until activated."""
    return "ACTIVE" if query_flag(request, "setAsActive") else "INACTIVE"


def _registered_status(request: web.Request, body: dict[str, Any]) -> str:
    """Register*: the body's `status`, or ACTIVE with the deprecated `setAsActive`; INACTIVE when neither is
    given (AWS documents no default: the strict choice keeps a device out until someone activates it)."""
    status = body.get("status")
    if status is None:
        return _initial_status(request)
    if not isinstance(status, str):
        raise InvalidRequestException("status must be a string")
    return check_status(status)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequestException(f"{name} is required")
    return value


def _created(stored: StoredCertificate) -> dict[str, Any]:
    return {"certificateArn": stored.arn, "certificateId": stored.certificate_id}


def _summary(stored: StoredCertificate) -> dict[str, Any]:
    """One `Certificate` of ListCertificates."""
    return {
        **_created(stored),
        "status": stored.status,
        "certificateMode": "DEFAULT",
        "creationDate": stored.created.timestamp(),
    }


def _description(stored: StoredCertificate, account: str) -> dict[str, Any]:
    """DescribeCertificate's `CertificateDescription`. No transfer, so no `transferData` or `previousOwnedBy`;
    no `caCertificateId`, which names a CA registered with RegisterCACertificate (not emulated)."""
    return {
        **_summary(stored),
        "certificatePem": stored.pem,
        "ownedBy": account,
        "lastModifiedDate": stored.last_modified.timestamp(),
        "validity": {"notBefore": stored.not_before.timestamp(), "notAfter": stored.not_after.timestamp()},
    }
