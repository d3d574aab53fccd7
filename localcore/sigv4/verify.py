"""Verify SigV4-signed requests (Authorization header or presigned query) against known credentials."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Generic, Protocol, TypeVar

from localcore.sigv4 import canonical as c
from localcore.sigv4.errors import SignatureError

MAX_SKEW_SECONDS = 300  # SigV4 accepts requests signed within 5 minutes of the server clock
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<sig>[0-9a-fA-F]+)\s*"
)
_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z", re.ASCII)
"""`X-Amz-Date`'s ISO 8601 basic format, `20240101T120000Z` (what `strptime("%Y%m%dT%H%M%SZ")` reads, cheaper)."""


class SigningCredential(Protocol):
    """What the verifier needs to know about an access key."""

    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def session_token(self) -> str | None: ...
    @property
    def expires_at(self) -> float | None: ...


C = TypeVar("C", bound=SigningCredential, covariant=True)
C2 = TypeVar("C2", bound=SigningCredential)


class CredentialResolver(Protocol[C]):
    """Looks up an access key id; None when the key is unknown (expired keys may still be returned)."""

    def resolve(self, access_key_id: str) -> C | None: ...


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as it arrived: raw (still percent-encoded) path, decoded query pairs, headers, body."""

    method: str
    path: str
    query: Sequence[tuple[str, str]] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Verified(Generic[C2]):
    """A request whose signature checked out, and the credential that signed it."""

    credential: C2
    region: str
    service: str
    signed_at: float
    presigned: bool


@dataclass(frozen=True)
class _Parsed:
    access_key_id: str
    date: str
    region: str
    service: str
    amz_date: str
    signed_headers: list[str]
    signature: str
    expires: int | None


class SigV4Verifier(Generic[C2]):
    """Checks AWS Signature Version 4 on requests, header-signed (botocore) or presigned (WebSocket URLs)."""

    def __init__(
        self,
        resolver: CredentialResolver[C2],
        *,
        clock: Callable[[], float] = time.time,
        max_skew: int = MAX_SKEW_SECONDS,
        region: str | None = None,
    ) -> None:
        """`region`: the only credential-scope region accepted (AWS refuses a scope for another region);
        None accepts any (unit tests of the signature arithmetic)."""
        self._resolver = resolver
        self._clock = clock
        self._max_skew = max_skew
        self._region = region

    def verify(self, request: SignedRequest, services: Collection[str] | None = None) -> Verified[C2]:
        """Verify `request`, signed for one of `services` (any when None); raise SignatureError otherwise."""
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = dict(request.query)
        if "authorization" in headers:
            parsed = _parse_header_auth(headers)
            presigned = False
            token = headers.get("x-amz-security-token")
        elif "X-Amz-Algorithm" in query:
            parsed = _parse_query_auth(query)
            presigned = True
            token = query.get("X-Amz-Security-Token")
        else:
            raise SignatureError("malformed", "no Authorization header and no X-Amz-Algorithm query")
        if services is not None and parsed.service not in services:
            raise SignatureError(
                "malformed", f"signed for service {parsed.service!r}, expected one of {sorted(services)}"
            )
        if self._region is not None and parsed.region != self._region:
            raise SignatureError(
                "wrong_region",
                f"credential scoped to region {parsed.region!r}, this endpoint is {self._region!r}",
                parsed.access_key_id,
            )
        credential = self._resolver.resolve(parsed.access_key_id)
        if credential is None:
            raise SignatureError("unknown_key", "the access key id is not known", parsed.access_key_id)
        now = self._clock()
        if credential.expires_at is not None and now >= credential.expires_at:
            raise SignatureError("expired", "the credentials have expired", parsed.access_key_id)
        signed_at = self._check_time(parsed, now)
        if (token or None) != (credential.session_token or None):
            raise SignatureError(
                "token_mismatch", "X-Amz-Security-Token does not belong to this key", parsed.access_key_id
            )
        key = c.signing_key(credential.secret_key, parsed.date, parsed.region, parsed.service)
        scope = f"{parsed.date}/{parsed.region}/{parsed.service}/aws4_request"
        for candidate in _canonical_candidates(request, headers, parsed, presigned):
            expected = c.signature(key, c.string_to_sign(parsed.amz_date, scope, candidate))
            if hmac.compare_digest(expected, parsed.signature.lower()):
                return Verified(credential, parsed.region, parsed.service, signed_at, presigned)
        raise SignatureError(
            "signature_mismatch",
            "the request signature we calculated does not match the signature you provided",
            parsed.access_key_id,
        )

    def _check_time(self, parsed: _Parsed, now: float) -> float:
        signed_at = _amz_timestamp(parsed.amz_date)
        if not parsed.amz_date.startswith(parsed.date):
            raise SignatureError("malformed", "credential scope date differs from X-Amz-Date")
        if signed_at - now > self._max_skew:
            raise SignatureError("skew", "the request is signed in the future", parsed.access_key_id)
        if parsed.expires is not None:
            if now > signed_at + parsed.expires:
                raise SignatureError("expired", "the presigned URL has expired", parsed.access_key_id)
        elif now - signed_at > self._max_skew:
            raise SignatureError("skew", "the signature is more than 5 minutes old", parsed.access_key_id)
        return signed_at


@lru_cache(maxsize=256)
def _amz_timestamp(amz_date: str) -> float:
    """Epoch seconds of an `X-Amz-Date` value; SignatureError when it is not a valid UTC date and time.
    Kept per value: the requests signed within one second share it."""
    match = _AMZ_DATE.fullmatch(amz_date)
    try:
        if match is None:
            raise ValueError(amz_date)
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError as exc:  # no such day or time (month 13, 25 o'clock)
        raise SignatureError("malformed", f"bad X-Amz-Date {amz_date!r}") from exc


def _split_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise SignatureError("malformed", f"bad credential scope {credential!r}")
    return parts[0], parts[1], parts[2], parts[3]


def _parse_header_auth(headers: Mapping[str, str]) -> _Parsed:
    match = _AUTH_RE.fullmatch(headers["authorization"].strip())
    if match is None:
        raise SignatureError("malformed", "Authorization header is not AWS4-HMAC-SHA256")
    akid, date, region, service = _split_credential(match["cred"])
    amz_date = headers.get("x-amz-date")
    if amz_date is None:
        raise SignatureError("malformed", "missing X-Amz-Date header")
    signed = match["signed"].lower().split(";")
    return _Parsed(akid, date, region, service, amz_date, signed, match["sig"], None)


def _parse_query_auth(query: Mapping[str, str]) -> _Parsed:
    if query["X-Amz-Algorithm"] != c.ALGORITHM:
        raise SignatureError("malformed", f"unsupported algorithm {query['X-Amz-Algorithm']!r}")
    required = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
    missing = [k for k in required if k not in query]
    if missing:
        raise SignatureError("malformed", f"missing query parameters {missing}")
    akid, date, region, service = _split_credential(query["X-Amz-Credential"])
    expires: int | None = None
    if "X-Amz-Expires" in query:
        raw = query["X-Amz-Expires"]
        if not raw.isdigit() or int(raw) > MAX_PRESIGN_EXPIRES:
            raise SignatureError("malformed", f"X-Amz-Expires must be 0..{MAX_PRESIGN_EXPIRES}, got {raw!r}")
        expires = int(raw)
    signed = query["X-Amz-SignedHeaders"].lower().split(";")
    amz_date, sig = query["X-Amz-Date"], query["X-Amz-Signature"]
    return _Parsed(akid, date, region, service, amz_date, signed, sig, expires)


def _canonical_candidates(
    request: SignedRequest, headers: Mapping[str, str], parsed: _Parsed, presigned: bool
) -> list[str]:
    """Every canonical request a legitimate signer may have built for this wire request."""
    uri = c.canonical_uri(request.path.split("?", 1)[0], s3=parsed.service == "s3")
    body_hash = hashlib.sha256(request.body).hexdigest()
    if presigned:
        base = [(k, v) for k, v in request.query if k != "X-Amz-Signature"]
        without_token = [(k, v) for k, v in base if k != "X-Amz-Security-Token"]
        queries = [c.canonical_query(without_token)]
        if len(without_token) != len(base):
            queries.append(c.canonical_query(base))  # some signers sign the token too; accept both
        payloads = [body_hash, c.UNSIGNED_PAYLOAD]
    else:
        queries = [c.canonical_query(request.query)]
        declared = headers.get("x-amz-content-sha256")
        if declared is not None and declared != c.UNSIGNED_PAYLOAD and declared != body_hash:
            raise SignatureError("signature_mismatch", "x-amz-content-sha256 does not match the body")
        payloads = [declared or body_hash]
    signed = ";".join(parsed.signed_headers)
    header_blocks = []
    for host in _host_candidates(headers.get("host")):
        view = {**headers, "host": host} if host is not None else headers
        try:
            header_blocks.append(c.canonical_headers(view, parsed.signed_headers))
        except KeyError as exc:
            raise SignatureError("malformed", f"signed header {exc.args[0]!r} is missing") from exc
    return [
        c.canonical_request(request.method, uri, q, h, signed, p)
        for q in queries
        for h in header_blocks
        for p in payloads
    ]


def _host_candidates(host: str | None) -> list[str | None]:
    """The Host header as sent, and without a default port (signers differ on `:443`/`:80`)."""
    if host is None:
        return [None]
    candidates: list[str | None] = [host]
    for default in (":443", ":80"):
        if host.endswith(default):
            candidates.append(host.removesuffix(default))
    return candidates
