"""AWS Signature Version 4 verification for localcore's HTTP and WebSocket endpoints."""

from __future__ import annotations

from localcore.sigv4.canonical import parse_query
from localcore.sigv4.errors import SignatureError, SignatureFailure
from localcore.sigv4.verify import (
    CredentialResolver,
    SignedRequest,
    SigningCredential,
    SigV4Verifier,
    Verified,
)

__all__ = [
    "CredentialResolver",
    "SigV4Verifier",
    "SignatureError",
    "SignatureFailure",
    "SignedRequest",
    "SigningCredential",
    "Verified",
    "parse_query",
]
