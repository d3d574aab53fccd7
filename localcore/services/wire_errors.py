"""A refusal in the shape each protocol's clients parse: JSON (`__type`), query XML (`ErrorResponse`) or
S3's XML (`Error`), with the codes those services use for signature failures.

botocore reads the code from `__type` / `x-amzn-ErrorType` (JSON; from `x-amzn-query-error` for
query-compatible services such as SQS), from `ErrorResponse/Error/Code` (query) and from `Error/Code` (S3):
https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html#operation-error-serialization,
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#operation-error-serialization,
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from aiohttp import web

from localcore.http.errors import AwsServiceError
from localcore.services.catalog import ServiceSpec
from localcore.services.requests import WireStyle

# The JSON front ends' codes (localcore.http.signing) as query services and S3 name them.
QUERY_CODES = {
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "UnrecognizedClientException": "InvalidClientTokenId",
    "IncompleteSignatureException": "IncompleteSignature",
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "ExpiredTokenException": "ExpiredToken",
    "SerializationException": "MalformedQueryString",
}
S3_CODES = {
    **QUERY_CODES,
    "UnrecognizedClientException": "InvalidAccessKeyId",
    "IncompleteSignatureException": "AuthorizationHeaderMalformed",
    "MissingAuthenticationTokenException": "AccessDenied",
}


def error_response(
    spec: ServiceSpec, style: WireStyle, error: AwsServiceError, request_id: str
) -> web.Response:
    """The answer to a request refused before moto saw it."""
    code, status = error.code, error.status
    if code == "AccessDeniedException":
        code, status = spec.denied
    if spec.auth_status is not None and status in (400, 403):
        status = spec.auth_status
    headers = {"x-amzn-RequestId": request_id}
    if style == "json":
        headers["x-amzn-ErrorType"] = code
        if spec.query_compatible:
            headers["x-amzn-query-error"] = f"{code};Sender"
        body = json.dumps({"__type": code, "message": error.message})
        return web.Response(
            status=status, text=body, content_type="application/x-amz-json-1.0", headers=headers
        )
    if style == "query":
        code = QUERY_CODES.get(code, code)
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(error.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return web.Response(status=status, text=body, content_type="text/xml", headers=headers)
    code = S3_CODES.get(code, code)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(error.message)}</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    )
    return web.Response(status=status, text=body, content_type="application/xml", headers=headers)
