"""The pieces of a SigV4 canonical request, string to sign and signing key (AWS SigV4 spec).

Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def parse_query(raw_query: str) -> list[tuple[str, str]]:
    """Split a raw (still percent-encoded) query string into decoded pairs; `+` stays a literal plus."""
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


@lru_cache(maxsize=4096)
def canonical_uri(raw_path: str, *, s3: bool = False) -> str:
    """The canonical URI of a wire path (kept per path: a stream publishes every message to one topic).

    For every service but S3, AWS signers remove dot and empty segments and encode the already-encoded path
    once more (botocore's `quote(normalize_url_path(path), safe='/~')`), so `%2F` on the wire is `%252F`
    here. S3 keys are taken literally (`a//b` stays) and encoded once: the path as sent, in normal form
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
    """
    if s3:
        return quote(unquote(raw_path), safe="/~")
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    path = "/" + "/".join(segments)
    if raw_path.endswith("/") and segments:
        path += "/"
    return quote(path, safe="/~")


@lru_cache(maxsize=1024)
def _uri_encode(text: str) -> str:
    """SigV4's URI encoding: every byte but the unreserved characters percent-encoded (kept per text: the
    same few names and values come in request after request)."""
    return quote(text, safe="-_.~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Decoded query pairs, each URI-encoded (unreserved characters kept), sorted by key then value."""
    encoded = sorted((_uri_encode(k), _uri_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_headers(headers: Mapping[str, str], signed: Sequence[str]) -> str:
    """`name:value\\n` for each signed header (lower-case names, whitespace runs collapsed)."""
    lines = []
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise KeyError(name)
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "".join(lines)


def canonical_request(
    method: str, uri: str, query: str, headers: str, signed_headers: str, payload_hash: str
) -> str:
    """The six-line canonical request."""
    return "\n".join([method.upper(), uri, query, headers, signed_headers, payload_hash])


def string_to_sign(amz_date: str, scope: str, request: str) -> str:
    """The string to sign: algorithm, timestamp, credential scope and the hash of the canonical request."""
    digest = hashlib.sha256(request.encode("utf-8")).hexdigest()
    return "\n".join([ALGORITHM, amz_date, scope, digest])


@lru_cache(maxsize=1024)
def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """HMAC chain from `AWS4<secret>` over date, region, service and `aws4_request`.

    Kept per (secret, date, region, service): the key is the same for every request signed with one credential
    on one day, so a verifier derives it once a day per key and service instead of four HMACs per request."""
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def signature(key: bytes, to_sign: str) -> str:
    """The hex HMAC-SHA256 signature of the string to sign."""
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
