"""The saved sign-in: one Cognito refresh token per (app client id, user name), so a user signs in once.

Stored as JSON in `$XDG_CONFIG_HOME/iotstream/tokens.json` (default `~/.config/iotstream/`), the folder
mode 0700 and the file mode 0600, replaced atomically. A refresh token is a bearer secret for the user
pool (30 days by default on AWS); `TokenCache.forget` removes it, e.g. after Cognito refused it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CACHE_FILE = "tokens.json"


def config_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_CONFIG_HOME/iotstream`, or `~/.config/iotstream` (the XDG Base Directory default)."""
    base = environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".config"
    return root / "iotstream"


class TokenCache:
    """Refresh tokens keyed by user pool app client id and user name."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / CACHE_FILE

    @staticmethod
    def key(client_id: str, username: str) -> str:
        return f"{client_id}/{username}"

    def refresh_token(self, client_id: str, username: str) -> str | None:
        entry = self._load().get(self.key(client_id, username))
        token = entry.get("refresh_token") if isinstance(entry, dict) else None
        return token if isinstance(token, str) and token else None

    def save(self, client_id: str, username: str, refresh_token: str) -> None:
        entries = self._load()
        entries[self.key(client_id, username)] = {
            "refresh_token": refresh_token,
            "saved_at": int(time.time()),
        }
        self._store(entries)

    def forget(self, client_id: str, username: str) -> None:
        entries = self._load()
        if entries.pop(self.key(client_id, username), None) is not None:
            self._store(entries)

    def _load(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # no cache yet, or an unreadable one: sign in again and write a good one
        tokens = document.get("tokens") if isinstance(document, dict) else None
        return dict(tokens) if isinstance(tokens, dict) else {}

    def _store(self, entries: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"version": 1, "tokens": entries}, handle, indent=2)
        temporary.chmod(0o600)  # O_CREAT's mode is filtered by the umask, and an old file keeps its own
        temporary.replace(self.path)
