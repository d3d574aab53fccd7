"""Lambda function URLs with AWS_IAM auth: `http://<gateway>/lambda-url/<function>/...`.

The request must be SigV4-signed (service `lambda`) with credentials localcore issued; the handler gets
the payload-format 2.0 event AWS documents for function URLs: `requestContext.authorizer.iam` names the
verified caller (access key, account, assumed-role ARN) and `cognitoIdentity` is null, as on AWS, so a
handler cannot learn a Cognito identity id from the event here either.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterable
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
    """The request payload Lambda builds for a function URL with AWS_IAM auth, field for field as documented
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html, "Request payload format"; the sample
    is tests/fixtures/aws_events/lambda-url-iam-request.json). `cookies`, `queryStringParameters` and `body` are
    left out when the request has none, as in real events; `authentication`, `pathParameters`,
    `stageVariables` and `authorizer.iam.cognitoIdentity` are null: function URLs do not use them.
    """
    path = request.path[len(f"{PREFIX}/{function}") :] or "/"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": request.query_string,
    }
    cookies = [c.strip() for header in request.headers.getall("Cookie", []) for c in header.split(";")]
    if any(cookies):
        event["cookies"] = [cookie for cookie in cookies if cookie]
    event["headers"] = _joined((k.lower(), v) for k, v in request.headers.items() if k.lower() != "cookie")
    if request.query:
        event["queryStringParameters"] = _joined(request.query.items())
    url_id = f"local{function.replace('_', '')}"
    now = time.time()
    event["requestContext"] = {
        "accountId": account,
        "apiId": url_id,
        "authentication": None,
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
    }
    encoded = False
    if body:
        try:
            event["body"] = body.decode()
        except UnicodeDecodeError:
            event["body"], encoded = base64.b64encode(body).decode(), True
    event.update({"pathParameters": None, "isBase64Encoded": encoded, "stageVariables": None})
    return event


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated names joined with commas (`header2: value1,value2` in the documented sample)."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


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
