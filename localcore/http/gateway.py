"""One aiohttp application, on one port, that every localcore HTTP service mounts into.

JSON 1.1 services (Cognito) are dispatched by the `X-Amz-Target: <Prefix>.<Operation>` header on
`POST /`; REST services (IoT control plane, iot-data, JWKS, Lambda function URLs) by method and path; the AWS
data services (DynamoDB, SQS, S3, ...) by the service name in the request's SigV4 credential scope, before
any route, so their paths (S3's `/{bucket}/{key}`) never meet the others'.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from localcore.aio.listen import binding
from localcore.http.connections import ConnectionGuard, GuardedSite, HttpLimits
from localcore.http.errors import AwsServiceError
from localcore.http.operations import has_operation, match_rest, not_emulated, signing_name

log = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
JsonBody = dict[str, Any]
JsonOperation = Callable[[JsonBody, web.Request], JsonBody | Awaitable[JsonBody]]
RestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Protocol = Literal["json", "rest-json"]


@dataclass(frozen=True)
class _Route:
    service: str
    protocol: Protocol


_ROUTE = web.RequestKey("localcore.route", _Route)
MALFORMED_REQUEST = "The request body could not be read as this operation's input."
REQUEST_TIMEOUT = (
    "Your socket connection to the server was not read from or written to within the timeout period."
)
INTERNAL_FAILURE = "The request processing has failed because of an unknown error, exception or failure."
"""AWS's words for InternalFailure (https://docs.aws.amazon.com/iot/latest/apireference/CommonErrors.html); what
failed is in localcore's log, never in the answer."""


_SCOPE_SERVICE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE_SERVICE = re.compile(r"^[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request$")


def signing_service(request: web.Request) -> str | None:
    """The service a request is signed for (`s3`, `monitoring`), from its Authorization header or presigned
    query; None when it is not SigV4-signed."""
    found = _SCOPE_SERVICE.search(request.headers.get("Authorization", ""))
    if found is None:
        found = _QUERY_SCOPE_SERVICE.match(request.query.get("X-Amz-Credential", ""))
    return found.group(1) if found else None


def json_object(raw: bytes, what: str) -> JsonBody:
    """A JSON 1.x request body as an object, or SerializationException (the parser's text is only logged)."""
    try:
        params = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep to decode
        log.info("%s: request body is not JSON: %s", what, exc)
        raise AwsServiceError("SerializationException", "The request body is not valid JSON.") from exc
    if not isinstance(params, dict):
        raise AwsServiceError("SerializationException", "The request body must be a JSON object.")
    return params


def json_error(error: AwsServiceError) -> web.Response:
    """The JSON 1.1 error document botocore parses into ClientError."""
    body = {"__type": error.code, "message": error.message}
    return web.Response(
        status=error.status,
        body=json.dumps(body).encode(),
        content_type=JSON_CONTENT_TYPE,
        headers={"x-amzn-ErrorType": error.code},
    )


def rest_error(error: AwsServiceError) -> web.Response:
    """The restJson1 error: the code in `x-amzn-ErrorType`, the message in the body."""
    return web.json_response(
        {"message": error.message}, status=error.status, headers={"x-amzn-ErrorType": error.code}
    )


class Gateway:
    """The shared HTTP front door. Register everything, then `await start(host, port)`."""

    def __init__(self, client_max_size: int = 8 * 1024 * 1024, limits: HttpLimits | None = None) -> None:
        self.limits = limits or HttpLimits()
        self._guard: ConnectionGuard | None = None
        self._json_targets: dict[str, tuple[str, Mapping[str, JsonOperation]]] = {}
        self._signed_services: dict[str, RestHandler] = {}
        self._service_targets: dict[str, RestHandler] = {}  # X-Amz-Target prefix -> the same handlers
        self._routes: list[tuple[str, str, str]] = []  # (service, method, path) as registered
        self._app = web.Application(client_max_size=client_max_size, middlewares=[self._errors])
        self.add_route("POST", "/", self._dispatch_json, service="json-1.1", protocol="json")
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def app(self) -> web.Application:
        return self._app

    def add_json_target(
        self, prefix: str, operations: Mapping[str, JsonOperation], service: str | None = None
    ) -> None:
        """Serve `X-Amz-Target: <prefix>.<Operation>` with `operations[Operation](params, request)`."""
        self._check_new_prefix(prefix)
        self._json_targets[prefix] = (service or prefix, dict(operations))

    def add_signed_service(
        self, signing_name: str, handler: RestHandler, target_prefix: str | None = None
    ) -> None:
        """Hand every request signed for `signing_name` (SigV4 scope) whole to `handler`, whatever its method
        and path, and for a JSON service every `X-Amz-Target: <target_prefix>.*` request too, signed or not
        (so an unsigned one gets the service's own refusal); the handler answers in its service's error shape."""
        if signing_name in self._signed_services:
            raise ValueError(f"signed service {signing_name!r} is already registered")
        self._signed_services[signing_name] = handler
        if target_prefix is not None:
            self._check_new_prefix(target_prefix)
            self._service_targets[target_prefix] = handler

    def _check_new_prefix(self, prefix: str) -> None:
        if prefix in self._json_targets or prefix in self._service_targets:
            raise ValueError(f"JSON target prefix {prefix!r} is already registered")

    def add_route(
        self, method: str, path: str, handler: RestHandler, *, service: str, protocol: Protocol = "rest-json"
    ) -> None:
        """Serve a REST route (aiohttp syntax, e.g. `/topics/{topic:.+}`); errors use `protocol`'s shape."""
        route = _Route(service, protocol)
        self._routes.append((service, method, path))

        async def wrapped(request: web.Request) -> web.StreamResponse:
            request[_ROUTE] = route
            return await handler(request)

        self._app.router.add_route(method, path, wrapped)

    def routes(self, service: str) -> list[tuple[str, str]]:
        """(method, path template) of every REST route registered for `service` (`iot`, `iot-data`)."""
        return [(method, path) for name, method, path in self._routes if name == service]

    def json_operations(self, service: str) -> frozenset[str]:
        """The operations served for a JSON service (`cognito-idp`)."""
        return frozenset(op for name, ops in self._json_targets.values() if name == service for op in ops)

    @contextlib.asynccontextmanager
    async def serving(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
        """`async with gateway.serving(host, port) as bound_port:` listening inside the block, closed after."""
        bound = await self.start(host, port)
        try:
            yield bound
        finally:
            await self.stop()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Bind and serve; returns the bound port (useful with port 0). Connections are bounded by `limits`
        (localcore.http.connections): aiohttp's keep-alive timer is the header deadline. A port that cannot be
        bound raises ListenError ("http"), with nothing left running."""
        if self._runner is not None:
            raise RuntimeError("gateway already started")
        self._runner = web.AppRunner(self._app, access_log=None, keepalive_timeout=self.limits.header_timeout)
        try:
            await self._runner.setup()
            assert self._runner.server is not None
            self._guard = ConnectionGuard(self._runner.server, self.limits.max_connections)
            site = GuardedSite(self._runner, host, port, self._guard)
            with binding("http", host, port):
                await site.start()
        except BaseException:
            await self.stop()
            raise
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else port
        log.info("gateway listening on http://%s:%s", host, self.port)
        return self.port

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _dispatch_json(self, request: web.Request) -> web.StreamResponse:
        target = request.headers.get("X-Amz-Target")
        if not target:
            raise AwsServiceError("UnknownOperationException", "missing X-Amz-Target header", 400)
        prefix, _, operation_name = target.rpartition(".")
        entry = self._json_targets.get(prefix)
        operation = entry[1].get(operation_name) if entry else None
        if operation is None:
            if entry is not None and has_operation(entry[0], operation_name):
                raise not_emulated(entry[0], operation_name)
            raise AwsServiceError("UnknownOperationException", f"unknown operation {target!r}", 400)
        params = json_object(await request.read(), target)
        try:
            result = operation(params, request)
            if inspect.isawaitable(result):
                result = await result
        except (TypeError, AttributeError, KeyError, ValueError, RecursionError) as exc:
            # A member of the wrong JSON type, or nested too deep to handle (boto3 validates, raw clients may
            # not): AWS answers this at the protocol layer with SerializationException. Logged in full in case
            # it is our bug.
            log.warning("malformed %s request: %r", target, exc, exc_info=True)
            raise AwsServiceError("SerializationException", MALFORMED_REQUEST) from exc
        return web.Response(body=json.dumps(result).encode(), content_type=JSON_CONTENT_TYPE)

    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Boundary: every failure becomes an AWS-shaped error response; the server keeps running. The body is
        read first, within `limits.body_timeout`; from then until the answer the connection counts as handled
        (never closed to make room for a new one)."""
        try:
            if not await self._body_within_deadline(request):
                return await self._timed_out(request)
            handling = self._guard.handling if self._guard is not None else set()
            handling.add(request.protocol)
            handler = self._service_handler(request) or handler
            try:
                return await handler(request)
            finally:
                handling.discard(request.protocol)
        except AwsServiceError as error:
            return self._render(request, error)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            missing = self._not_emulated(request) if exc.status in (404, 405) else None
            if missing is not None:
                return self._render(request, missing)
            code = {404: "ResourceNotFoundException", 405: "MethodNotAllowedException"}.get(
                exc.status, "InvalidRequestException"
            )
            if exc.status == 413:
                code = "RequestEntityTooLargeException"
            return self._render(request, AwsServiceError(code, exc.reason, exc.status))
        except Exception:  # boundary: one request fails, the gateway stays up
            log.exception("unhandled error serving %s %s", request.method, request.path)
            return self._render(request, AwsServiceError("InternalFailure", INTERNAL_FAILURE, 500))

    def _service_handler(self, request: web.Request) -> RestHandler | None:
        """The AWS data service a request is for: by its SigV4 scope, else by its JSON target prefix."""
        service = signing_service(request)
        if service is not None and service in self._signed_services:
            return self._signed_services[service]
        target = request.headers.get("X-Amz-Target")
        return self._service_targets.get(target.rpartition(".")[0]) if target else None

    def _not_emulated(self, request: web.Request) -> AwsServiceError | None:
        """A request no route serves but that is an operation of a service localcore serves in part (signed
        for it): the not-emulated answer naming the operation, rather than a 404 that reads as a missing
        resource."""
        signed = signing_service(request)
        if signed is None:
            return None
        raw_path = request.raw_path.partition("?")[0]
        for service in dict.fromkeys(name for name, _, _ in self._routes):
            if signing_name(service) == signed:
                found = match_rest(
                    service, request.method, raw_path, dict(request.query), list(request.headers)
                )
                if found is not None:
                    return not_emulated(service, found.operation)
        return None

    async def _body_within_deadline(self, request: web.Request) -> bool:
        """Read the whole body within `limits.body_timeout` (handlers' `read()` then returns it at once);
        a body over `client_max_size` raises 413 here."""
        if request.content.is_eof():  # came whole with the headers (most requests): no timer to start
            await request.read()
            return True
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                await request.read()
        except TimeoutError:
            return False
        return True

    async def _timed_out(self, request: web.Request) -> web.StreamResponse:
        """408, then the connection ends at once (the rest of the body may still be on its way)."""
        log.info(
            "%s %s from %s: body not received within %ss",
            request.method,
            request.path,
            request.remote,
            self.limits.body_timeout,
        )
        response = self._render(request, AwsServiceError("RequestTimeoutException", REQUEST_TIMEOUT, 408))
        await response.prepare(request)
        await response.write_eof()
        request.protocol.force_close()
        return response

    @staticmethod
    def _render(request: web.Request, error: AwsServiceError) -> web.Response:
        route = request.get(_ROUTE)
        is_json = route.protocol == "json" if route else "X-Amz-Target" in request.headers
        return json_error(error) if is_json else rest_error(error)
