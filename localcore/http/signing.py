"""SigV4 for REST routes on the gateway: turn an aiohttp request into a verified caller, or an AWS 403."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from aiohttp import web

from localcore.http.errors import AwsServiceError
from localcore.sigv4 import (
    SignatureError,
    SignedRequest,
    SigningCredential,
    SigV4Verifier,
    Verified,
    parse_query,
)

C = TypeVar("C", bound=SigningCredential)

# How AWS front ends name each failure (HTTP 403 in every case).
_AWS_CODES = {
    "signature_mismatch": "InvalidSignatureException",
    "skew": "InvalidSignatureException",
    "expired": "ExpiredTokenException",
    "unknown_key": "UnrecognizedClientException",
    "token_mismatch": "UnrecognizedClientException",
    "malformed": "IncompleteSignatureException",
}


async def signed_request(request: web.Request) -> SignedRequest:
    """The wire view SigV4 needs: raw path (percent-encoding intact), decoded query pairs, headers, body."""
    raw_path, _, raw_query = request.raw_path.partition("?")
    body = await request.read()
    return SignedRequest(request.method, raw_path, parse_query(raw_query), dict(request.headers), body)


def signature_error(error: SignatureError) -> AwsServiceError:
    """The AWS-shaped 403 for a refused signature; the machine reason stays in the message."""
    if error.reason == "malformed" and "no Authorization" in error.detail:
        return AwsServiceError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
    return AwsServiceError(_AWS_CODES[error.reason], f"{error.detail} ({error.reason})", 403)


async def verify_signed(
    request: web.Request, verifier: SigV4Verifier[C], services: Collection[str] | None = None
) -> Verified[C]:
    """Verify the request's SigV4 signature for one of `services`, or raise the AWS 403 error."""
    try:
        return verifier.verify(await signed_request(request), services)
    except SignatureError as error:
        raise signature_error(error) from error
