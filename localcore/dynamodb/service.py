"""DynamoDB for the Lambdas' state, on the gateway: SigV4 and IAM in front, moto's DynamoDB behind.

Every request is verified (SigV4, service `dynamodb`, this region) and authorized by the caller's role for the
action and table it names (`localcore.dynamodb.permissions`), exactly as the rest of localcore's APIs are; only
then does moto's DynamoDB application run it, in process. moto listens on no socket, so nothing reaches it
but what passed the check, and its reset/admin routes (`/moto-api/...`) are not served at all. One worker
thread runs moto: its conditional writes (the prompt function's idempotency claim) are then atomic, as
DynamoDB's are. Transactions that do not copy whole tables, and TTL deletions, come from
`localcore.dynamodb.store`; the sweep runs on the same worker thread.

Auth errors are HTTP 400, as DynamoDB answers them
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).

moto keeps every model instance it ever made, for its own server's dashboard (`/moto-api/`, not served here);
with TransactWriteItems deep-copying each table it touches, that kept a copy of the whole table per transaction
(one per prompt) alive for ever. Its DynamoDB models are not tracked here (`_stop_tracking_instances`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import boto3
from aiohttp import web
from moto.core.model_instances import model_data
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.test import EnvironBuilder, run_wsgi_app

from localcore.dynamodb.permissions import required_permissions
from localcore.dynamodb.store import SWEEP_INTERVAL_S, sweep_expired, use_local_transactions
from localcore.http.errors import AwsServiceError
from localcore.http.gateway import INTERNAL_FAILURE, Gateway, json_object
from localcore.iam.authorizer import IamAuthorizer
from streaming.state import create_state_table

if TYPE_CHECKING:
    from localcore.iam.admin_key import AdminCredentials

log = logging.getLogger(__name__)
TARGET_PREFIX = "DynamoDB_20120810"
_PASSED_HEADERS = ("content-type", "x-amzn-requestid", "x-amz-crc32")


class _NotTracked(list[object]):
    """What moto appends every new model instance to, for a dashboard localcore does not serve: nothing kept."""

    def append(self, instance: object) -> None:
        pass


def _stop_tracking_instances(service: str) -> None:
    for model in model_data[service].values():
        model.instances_tracked = _NotTracked()  # type: ignore[attr-defined]


class LocalDynamoDB:
    """`mount(gateway)`, then `create_table(...)` once the gateway listens; `close()` at the end."""

    def __init__(self, iam: IamAuthorizer, region: str, account: str) -> None:
        self._iam = iam
        self._region = region
        self._account = account
        use_local_transactions()
        self._app = create_backend_app("dynamodb")
        _stop_tracking_instances("dynamodb")
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localcore-dynamodb")
        self._sweeper: asyncio.Task[None] | None = None

    def table_arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self._region}:{self._account}:table/{name}"

    def mount(self, gateway: Gateway) -> None:
        gateway.add_json_handler(TARGET_PREFIX, self._serve)

    def create_table(self, endpoint_url: str, table: str, admin: AdminCredentials) -> None:
        """The project's state table, created through the front door with the admin key (blocking)."""
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name=self._region,
            aws_access_key_id=admin.access_key_id,
            aws_secret_access_key=admin.secret_access_key,
        )
        create_state_table(client, table)

    def start_sweeping(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Delete expired items (DynamoDB TTL) every `interval_s`, on moto's worker thread."""
        self._sweeper = asyncio.create_task(self._sweep_forever(interval_s), name="dynamodb-ttl-sweep")

    async def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def sweep_now(self) -> int:
        """One sweep (what the periodic one does): how many expired items were deleted."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, sweep_expired)

    async def _sweep_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.sweep_now()
            except Exception:  # boundary: one failed sweep must not end the sweeping
                log.exception("DynamoDB TTL sweep failed")

    def close(self) -> None:
        self._worker.shutdown(wait=True)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        target = request.headers.get("X-Amz-Target", "")
        body = await request.read()
        needs = required_permissions(target.rpartition(".")[2], json_object(body, target), self.table_arn)
        try:
            await self._iam.authorize_all(request, {"dynamodb"}, needs)
        except AwsServiceError as error:
            raise AwsServiceError(error.code, error.message, 400) from error
        headers = [
            (name, value) for name, value in request.headers.items() if name.lower() != "content-length"
        ]
        loop = asyncio.get_running_loop()
        status, answer_headers, payload = await loop.run_in_executor(
            self._worker, self._run_moto, request.method, request.path, headers, body
        )
        if status >= 500:  # moto's own failure text stays in the log
            log.error("DynamoDB %s failed (%d): %s", target, status, payload[:2000])
            raise AwsServiceError("InternalServerError", INTERNAL_FAILURE, 500)
        return web.Response(status=status, body=payload, headers=answer_headers)

    def _run_moto(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        environ = EnvironBuilder(path=path, method=method, headers=headers, data=body).get_environ()
        app_iter, status, answer_headers = run_wsgi_app(self._app, environ, buffered=True)
        try:
            payload = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        kept = {name: value for name, value in answer_headers.items() if name.lower() in _PASSED_HEADERS}
        return int(status.split(" ", 1)[0]), kept, payload
