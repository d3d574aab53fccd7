"""The `/_localcore/...` routes on the gateway.

- `GET /_localcore/health`: `{"status": "ok"}` while the stack serves (docker compose / Kubernetes health
  checks); unsigned, like a load balancer's probe.
- `GET /_localcore/info`: version, endpoints (no secret), the project and what it loaded; unsigned.
- `GET /_localcore/status`: connections, rules and functions with their counters, recent refusals.
- `GET /_localcore/events?recent=N&follow=1&kinds=PUBLISH,RULE`: the last N event lines, then (follow) new
  ones as they happen, as newline-delimited JSON (`application/x-ndjson`), until the stack stops.

`status` and `events` show every identity's traffic: only a SigV4-signed request allowed
`localcore:GetStatus` / `localcore:ReadEvents` passes (the local admin's key; service name `localcore`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from localcore.http.errors import AwsServiceError
from localcore.http.gateway import Gateway
from localcore.observe.events import Event, EventLog, Follower

SERVICE = "localcore"
Authorize = Callable[[web.Request, str], Awaitable[object]]
NDJSON = "application/x-ndjson"


class LocalcoreRoutes:
    """Health, info, status and events, mounted with `mount(gateway)`."""

    def __init__(
        self,
        events: EventLog,
        info: Callable[[], dict[str, Any]],
        status: Callable[[], dict[str, Any]],
        authorize: Authorize,
    ) -> None:
        self.events = events
        self.info = info
        self.status = status
        self.authorize = authorize

    def mount(self, gateway: Gateway) -> None:
        gateway.add_route("GET", "/_localcore/health", self._health, service=SERVICE)
        gateway.add_route("GET", "/_localcore/info", self._info, service=SERVICE)
        gateway.add_route("GET", "/_localcore/status", self._status, service=SERVICE)
        gateway.add_route("GET", "/_localcore/events", self._events, service=SERVICE)

    async def _health(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    async def _info(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self.info())

    async def _status(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, f"{SERVICE}:GetStatus")
        return web.json_response(self.status())

    async def _events(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, f"{SERVICE}:ReadEvents")
        query = request.query
        kinds = frozenset(k for k in query.get("kinds", "").upper().split(",") if k) or None
        try:
            recent = int(query.get("recent", "100"))
        except ValueError:
            raise AwsServiceError("InvalidRequestException", "recent must be a whole number") from None
        response = web.StreamResponse(headers={"Content-Type": NDJSON, "Cache-Control": "no-store"})
        await response.prepare(request)
        with self.events.follow() as follower:  # registered before the backlog is read: nothing is missed
            last = 0
            for event in self.events.recent(max(recent, 0), kinds):
                await response.write(_line(event))
                last = event.seq
            if query.get("follow") in ("1", "true"):
                try:
                    await self._follow(response, follower, last, kinds)
                except ConnectionResetError:  # the reader went away
                    return response
        await response.write_eof()
        return response

    @staticmethod
    async def _follow(
        response: web.StreamResponse, follower: Follower, last: int, kinds: frozenset[str] | None
    ) -> None:
        async for event in follower:
            if event.seq <= last or (kinds is not None and event.kind not in kinds):
                continue
            if follower.dropped:
                dropped = {"kind": "DROPPED", "level": "warning", "count": follower.dropped}
                await response.write(json.dumps(dropped).encode() + b"\n")
                follower.dropped = 0
            await response.write(_line(event))


def _line(event: Event) -> bytes:
    return json.dumps(event.to_json(), default=str).encode() + b"\n"
