"""moto's service applications, run in process on one worker thread.

moto listens on no socket here: the front (`front.py`) hands it only requests that passed SigV4 and IAM, and
its reset/admin routes (`/moto-api/...`) are never reached. One thread runs every service, so each request
is atomic against the others (DynamoDB's conditional writes, SQS receives), as the real services are. moto
takes the account from `x-moto-account-id`, so ARNs and queue URLs carry localcore's account.

moto keeps every model instance it ever made, for its own server's dashboard (`/moto-api/`, not served here);
with TransactWriteItems deep-copying each table it touches, that kept a copy of the whole table per transaction
(one per prompt) alive for ever. No service's models are tracked here (`_stop_tracking_instances`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from moto.core.model_instances import model_data
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.test import EnvironBuilder, run_wsgi_app

from localcore.services.dynamodb_store import (
    SWEEP_INTERVAL_S,
    drop_empty_partitions,
    sweep_expired,
    use_local_transactions,
)
from localcore.services.moto_caches import keep_unchanging_results

log = logging.getLogger(__name__)

# Hop-by-hop and per-connection headers (aiohttp writes its own; a HEAD answer keeps moto's Content-Length), and
# moto's CORS header: a browser page of another origin has no business reading these answers.
_DROPPED_HEADERS = frozenset(
    {
        "content-length",
        "connection",
        "transfer-encoding",
        "server",
        "date",
        "keep-alive",
        "access-control-allow-origin",
    }
)


class _NotTracked(list[object]):
    """What moto appends every new model instance to, for a dashboard localcore does not serve: nothing kept."""

    def append(self, instance: object) -> None:
        pass


def _stop_tracking_instances(service: str) -> None:
    for model in model_data.get(service, {}).values():
        model.instances_tracked = _NotTracked()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MotoRequest:
    """A request as it came to the gateway (path and query still percent-encoded)."""

    service: str
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class MotoAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MotoWorker:
    """`await worker.run(request)`: moto's applications, one per service, on one thread. DynamoDB's
    transactions and TTL come from `dynamodb_store` (what moto lacks); the TTL sweep runs on the same thread;
    what moto would recompute on every request is kept (`moto_caches`)."""

    def __init__(self, account: str) -> None:
        self._account = account
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localcore-moto")
        self._apps: dict[str, Any] = {}
        self._sweeper: asyncio.Task[None] | None = None
        use_local_transactions()
        drop_empty_partitions()
        keep_unchanging_results()

    async def run(self, request: MotoRequest) -> MotoAnswer:
        """Run one request through moto's application for its service, on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, request)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def start_sweeping(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Delete expired DynamoDB items (TTL) every `interval_s`, on moto's worker thread."""
        self._sweeper = asyncio.create_task(self._sweep_forever(interval_s), name="dynamodb-ttl-sweep")

    async def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def sweep_now(self) -> int:
        """One sweep (what the periodic one does): how many expired items were deleted."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, sweep_expired, self._account)

    async def _sweep_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.sweep_now()
            except Exception:  # boundary: one failed sweep must not end the sweeping
                log.exception("DynamoDB TTL sweep failed")

    def _app(self, service: str) -> Any:
        app = self._apps.get(service)
        if app is None:
            app = self._apps[service] = create_backend_app(cast(Any, service))
            _stop_tracking_instances(service)
        return app

    def _run(self, request: MotoRequest) -> MotoAnswer:
        sent = [
            (name, value)
            for name, value in request.headers
            if name.lower() not in ("content-length", "x-moto-account-id")
        ]
        sent.append(("x-moto-account-id", self._account))
        environ = EnvironBuilder(
            path=request.raw_path,
            query_string=request.raw_query,
            method=request.method,
            headers=sent,
            data=request.body,
        ).get_environ()
        app_iter, status, answer_headers = run_wsgi_app(self._app(request.service), environ, buffered=True)
        try:
            payload = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        dropped = _DROPPED_HEADERS - {"content-length"} if request.method == "HEAD" else _DROPPED_HEADERS
        kept = [(name, value) for name, value in answer_headers.items() if name.lower() not in dropped]
        return MotoAnswer(int(status.split(" ", 1)[0]), kept, payload)
