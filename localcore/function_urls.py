"""Lambda function URLs with AWS_IAM auth: `http://<gateway>/lambda-url/<function>/...`.

The request must be SigV4-signed (service `lambda`) with credentials localcore issued; the handler gets
a payload-format 2.0 event whose `requestContext.authorizer.iam` describes the verified caller (the
Cognito identity, for identity-pool credentials), exactly what the handler reads on AWS.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from localcore.http.gateway import Gateway
from localcore.http.signing import verify_signed
from localcore.identity.credentials import Caller, IssuedCredential
from localcore.lambda_runtime import LambdaRuntime, TooManyRequestsException
from localcore.sigv4 import SigV4Verifier

PREFIX = "/lambda-url"


def function_url(base_url: str, function: str) -> str:
    """The local URL of a function's URL endpoint."""
    return f"{base_url}{PREFIX}/{function}/"


def url_event(
    request: web.Request, function: str, body: bytes, caller: Caller, account: str
) -> dict[str, Any]:
    """A function-URL (payload format 2.0) event, as Lambda builds it."""
    path = request.path[len(f"{PREFIX}/{function}") :] or "/"
    text_body: str | None
    try:
        text_body, encoded = body.decode(), False
    except UnicodeDecodeError:
        text_body, encoded = base64.b64encode(body).decode(), True
    url_id = f"local{function.replace('_', '')}"
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": request.query_string,
        "headers": {key.lower(): value for key, value in request.headers.items()},
        "queryStringParameters": dict(request.query) or None,
        "requestContext": {
            "accountId": account,
            "apiId": url_id,
            "authorizer": {"iam": caller.iam_authorizer_context()},
            "domainName": request.host,
            "domainPrefix": url_id,
            "http": {
                "method": request.method,
                "path": path,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text_body or None,
        "isBase64Encoded": encoded,
    }


def url_response(payload: Any) -> web.Response:
    """Map the handler's result as Lambda does: a dict with statusCode is a response, else a JSON body."""
    if isinstance(payload, dict) and "statusCode" in payload:
        body = payload.get("body") or ""
        raw = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode()
        headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
        return web.Response(status=int(payload["statusCode"]), body=raw, headers=headers)
    return web.json_response(payload)


class FunctionUrls:
    """Serves the function URLs of the named functions."""

    def __init__(
        self,
        runtime: Callable[[], LambdaRuntime],
        verifier: SigV4Verifier[IssuedCredential],
        functions: tuple[str, ...],
        account: str = "000000000000",
    ) -> None:
        self.runtime = runtime
        self.verifier = verifier
        self.functions = functions
        self.account = account

    def mount(self, gateway: Gateway) -> None:
        for function in self.functions:
            for path in (f"{PREFIX}/{function}", f"{PREFIX}/{function}/{{tail:.*}}"):
                gateway.add_route("*", path, self._handler(function), service="lambda")

    def _handler(self, function: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            verified = await verify_signed(request, self.verifier, {"lambda"})
            event = url_event(
                request, function, await request.read(), verified.credential.caller, self.account
            )
            try:
                result = await self.runtime().invoke(function, event)
            except TooManyRequestsException:  # at the concurrency limit (docs/lambda-runtime.md)
                return web.json_response(
                    {"Message": "Rate Exceeded."},
                    status=TooManyRequestsException.status,
                    headers={"x-amzn-ErrorType": TooManyRequestsException.code},
                )
            if not result.ok:
                return web.json_response({"Message": "Internal Server Error"}, status=502)
            return url_response(result.payload)

        return handle
