"""The AWS data services on the gateway: SigV4 and IAM in front, moto behind, one place for all of them.

Every request is verified (SigV4, for this service and region) and authorized by the caller's role for the
actions and resources it needs (`localcore.services.permissions`), exactly as the rest of localcore's APIs
are; only then does moto run it (`moto_worker.py`). A refusal is answered in the service's own error shape
(`wire_errors.py`); what moto itself fails on (HTTP 5xx) is logged and answered as InternalFailure.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter

from aiohttp import web

from localcore.http.errors import AwsServiceError
from localcore.http.gateway import INTERNAL_FAILURE, Gateway, RestHandler
from localcore.iam.authorizer import IamAuthorizer
from localcore.services.catalog import SERVICES, ServiceSpec
from localcore.services.moto_worker import MotoRequest, MotoWorker
from localcore.services.permissions.place import Place
from localcore.services.requests import ServiceRequest, WireStyle, read_request
from localcore.services.wire_errors import error_response
from localcore.sigv4 import parse_query

log = logging.getLogger(__name__)
_READS = ("Get", "List", "Describe", "Head", "Receive", "Query", "Scan", "BatchGet", "Simulate")


class AwsServices:
    """`mount(gateway)`; `environment(url)` gives boto3 the endpoints; `close()` at the end."""

    def __init__(self, iam: IamAuthorizer, place: Place, specs: tuple[ServiceSpec, ...] = SERVICES) -> None:
        self.place = place
        self.specs = {spec.name: spec for spec in specs}
        self.moto = MotoWorker(place.account)
        self._iam = iam
        self._writes: Counter[str] = Counter()

    def mount(self, gateway: Gateway) -> None:
        for spec in self.specs.values():
            gateway.add_signed_service(spec.signing_name, self._handler(spec), spec.target_prefix)

    def environment(self, url: str) -> dict[str, str]:
        """`AWS_ENDPOINT_URL_<SERVICE>` for every service, all at `url` (the gateway)."""
        return {spec.environment_variable: url for spec in self.specs.values()}

    def writes(self, service: str) -> int:
        """How many requests that may change `service`'s state have run (caches keyed on it stay right)."""
        return self._writes[service]

    def close(self) -> None:
        self.moto.close()

    def _handler(self, spec: ServiceSpec) -> RestHandler:
        async def serve(request: web.Request) -> web.StreamResponse:
            return await self._serve(spec, request)

        return serve

    async def _serve(self, spec: ServiceSpec, request: web.Request) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        body = await request.read()
        raw_path, _, raw_query = request.raw_path.partition("?")
        style: WireStyle = (
            "json" if "X-Amz-Target" in request.headers else ("rest-xml" if spec.name == "s3" else "query")
        )
        try:
            call = read_request(
                spec.name, request.method, raw_path, dict(parse_query(raw_query)), request.headers, body
            )
            style = call.style
            await self._iam.authorize_all(request, {spec.signing_name}, spec.needs(call, self.place))
        except AwsServiceError as error:
            return error_response(spec, style, error, request_id)
        sent = MotoRequest(
            spec.name, request.method, raw_path, raw_query, list(request.headers.items()), body
        )
        answer = await self.moto.run(sent)
        if not _reads_only(call):  # counted once done: a cache keyed on the count never keeps older state
            self._writes[spec.name] += 1
        if answer.status >= 500:  # moto's own failure text stays in the log
            log.error("%s %s failed (%d): %r", spec.name, call.operation, answer.status, answer.body[:2000])
            return error_response(
                spec, style, AwsServiceError("InternalFailure", INTERNAL_FAILURE, 500), request_id
            )
        return web.Response(
            status=answer.status,
            body=answer.body if request.method != "HEAD" else None,
            headers=answer.headers,
        )


def _reads_only(call: ServiceRequest) -> bool:
    return call.operation.startswith(_READS)
