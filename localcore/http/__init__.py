"""The shared HTTP gateway every localcore HTTP service mounts into, and AWS-shaped errors."""

from __future__ import annotations

from localcore.http.errors import AwsServiceError, CodedError
from localcore.http.gateway import JSON_CONTENT_TYPE, Gateway, JsonOperation, RestHandler
from localcore.http.signing import signature_error, signed_request, verify_signed

__all__ = [
    "JSON_CONTENT_TYPE",
    "AwsServiceError",
    "CodedError",
    "Gateway",
    "JsonOperation",
    "RestHandler",
    "signature_error",
    "signed_request",
    "verify_signed",
]
