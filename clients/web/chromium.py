"""How the project drives a real Chromium (browser tests, `bench.web`): Debian's /usr/bin/chromium through
Playwright's `executable_path` (Playwright's own browser download is not used), with the flags a closed network
needs: without the background-networking ones, Chromium's own connections (updates, sync, components) are
refused and slow everything down; QUIC and the GPU are not needed for local pages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from clients.errors import IotstreamClientError

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class ChromiumMissingError(IotstreamClientError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"Chromium is not installed at {path}: run `make setup` (apt-get install chromium)")


def chromium_path() -> Path:
    """`IOTSTREAM_CHROMIUM`, or Debian's /usr/bin/chromium."""
    return Path(os.environ.get("IOTSTREAM_CHROMIUM", "/usr/bin/chromium"))


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium (a `playwright.sync_api.Browser`) from `sync_playwright()`'s object."""
    path = chromium_path()
    if not path.exists():
        raise ChromiumMissingError(path)
    return playwright.chromium.launch(executable_path=str(path), args=list(CHROMIUM_FLAGS))
