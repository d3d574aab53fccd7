"""SigV4 for REST routes on the gateway: turn an aiohttp request into a verified caller, or an AWS 403."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TypeVar

from aiohttp import web

from localcore.http.errors import AwsServiceError
from localcore.sigv4 import (
    SignatureError,
    SignatureFailure,
    SignedRequest,
    SigningCredential,
    SigV4Verifier,
    Verified,
    parse_query,
)

C = TypeVar("C", bound=SigningCredential)

log = logging.getLogger(__name__)

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
# How AWS front ends name and word each failure (HTTP 403 in every case). The machine reason and the details
# go to localcore's log, never over the wire (AWS tells the caller no more than this either).
_AWS_ERRORS: dict[SignatureFailure, tuple[str, str]] = {
    "signature_mismatch": ("InvalidSignatureException", _MISMATCH),
    "skew": ("InvalidSignatureException", "Signature expired or not yet current."),
    "expired": ("ExpiredTokenException", "The security token included in the request is expired"),
    "unknown_key": ("UnrecognizedClientException", _INVALID_TOKEN),
    "token_mismatch": ("UnrecognizedClientException", _INVALID_TOKEN),
    "malformed": ("IncompleteSignatureException", "The request signature does not conform to AWS standards."),
    "wrong_region": ("InvalidSignatureException", "Credential should be scoped to a valid region."),
}


async def signed_request(request: web.Request) -> SignedRequest:
    """The wire view SigV4 needs: raw path (percent-encoding intact), decoded query pairs, headers, body."""
    raw_path, _, raw_query = request.raw_path.partition("?")
    body = await request.read()
    return SignedRequest(request.method, raw_path, parse_query(raw_query), dict(request.headers), body)


def signature_error(error: SignatureError) -> AwsServiceError:
    """The AWS-shaped 403 for a refused signature: AWS's code and words only."""
    if error.reason == "malformed" and "no Authorization" in error.detail:
        return AwsServiceError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    code, message = _AWS_ERRORS[error.reason]
    return AwsServiceError(code, message, 403)


async def verify_signed(
    request: web.Request, verifier: SigV4Verifier[C], services: Collection[str] | None = None
) -> Verified[C]:
    """Verify the request's SigV4 signature for one of `services`, or raise the AWS 403 error."""
    try:
        return verifier.verify(await signed_request(request), services)
    except SignatureError as error:
        log.info(
            "signature refused on %s %s: %s (key %s)",
            request.method,
            request.path,
            error,
            error.access_key_id,
        )
        raise signature_error(error) from error
