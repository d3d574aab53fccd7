"""Serve the pages from localcore's gateway, beside the AWS APIs on the same port.

The gateway dispatches Cognito's JSON APIs on `POST /` (by `X-Amz-Target`); the pages only add `GET` routes, so
both live on one origin and the page's Cognito and attach calls are same-origin (no CORS needed locally).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from clients.web.site import STATIC_DIR, PagesNotBuiltError, check_built, config_from_localcore
from localcore.app import Localcore
from localcore.http.gateway import Gateway

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Local pages are rebuilt often: the browser revalidates every time. nosniff: served types are final.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
ROUTES = {
    "/": "index.html",
    "/index.html": "index.html",
    "/dashboard": "dashboard.html",
    "/dashboard.html": "dashboard.html",  # the name a static host serves (the chat page links to it)
}


def _file_response(path: Path) -> web.Response:
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    return web.Response(body=path.read_bytes(), headers={**_HEADERS, "Content-Type": content_type})


def mount_pages(
    gateway: Gateway, config: Callable[[], Mapping[str, Any]], static_dir: Path = STATIC_DIR
) -> None:
    """Add `GET /`, `/dashboard`, `/assets/<file>` and `/config.json` (built by `config()` per request)."""

    def page(name: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            try:
                check_built(static_dir)
            except PagesNotBuiltError as error:
                return web.Response(status=503, text=f"{error}\n", headers=_HEADERS)
            return _file_response(static_dir / name)

        return handle

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = static_dir / "assets" / name
        if not _ASSET_NAME.match(name) or not path.is_file():
            raise web.HTTPNotFound(reason=f"no asset {name!r}")
        return _file_response(path)

    async def config_json(request: web.Request) -> web.Response:
        body = json.dumps(dict(config())).encode()
        return web.Response(body=body, headers={**_HEADERS, "Content-Type": "application/json"})

    for path, name in ROUTES.items():
        gateway.add_route("GET", path, page(name), service="web")
    gateway.add_route("GET", "/assets/{name}", asset, service="web")
    gateway.add_route("GET", "/config.json", config_json, service="web")


def serve_pages(core: Localcore, static_dir: Path = STATIC_DIR) -> None:
    """Serve the pages from a (not yet started) localcore, configured from its endpoints once it runs."""
    try:
        check_built(static_dir)
    except PagesNotBuiltError as error:
        log.warning("%s", error)
    mount_pages(core.gateway, lambda: config_from_localcore(core.endpoints), static_dir)
