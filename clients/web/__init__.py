"""The browser pages: a chat page and a dashboard page (TypeScript in `src/`, built by esbuild into `static/`).

`iotstream up` serves them on its HTTP port (`/`, `/dashboard`, `/config.json`); `iotstream web --aws
cdk-outputs.json --out site/` writes them with a `config.json` for a static host. See docs/web.md.
"""

from __future__ import annotations

from clients.web.server import mount_pages, serve_pages
from clients.web.site import (
    STATIC_DIR,
    PagesNotBuiltError,
    check_built,
    config_from_client,
    config_from_localcore,
    write_site,
)

__all__ = [
    "STATIC_DIR",
    "PagesNotBuiltError",
    "check_built",
    "config_from_client",
    "config_from_localcore",
    "mount_pages",
    "serve_pages",
    "write_site",
]
