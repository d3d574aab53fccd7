"""The state file: `{"format": 1, "saved_at": ..., "parts": {name: snapshot}}`, written atomically, mode 0600
(it holds password hashes and the user pools' signing keys)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from localcore.errors import LocalcoreError
from localcore.iam.private_files import write_private_json

STATE_FILE = "state.json"
FORMAT = 1
_FIX = "move it away (or start without --persist)"


class PersistenceError(LocalcoreError):
    """The state file cannot be read or restored; the message names the file and the fix."""


class StateFile:
    """One JSON document in the state dir; readers never see a partial file (write, then rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, dict[str, Any]]:
        """The saved parts by name; {} when there is no file yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as error:
            raise PersistenceError(f"state file {self.path} cannot be read ({error}): {_FIX}") from None
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise PersistenceError(f"state file {self.path} is not valid JSON ({error}): {_FIX}") from None
        if not isinstance(document, dict) or not isinstance(document.get("parts"), dict):
            raise PersistenceError(f"state file {self.path} is not a localcore state file: {_FIX}")
        if document.get("format") != FORMAT:
            raise PersistenceError(
                f"state file {self.path} has format {document.get('format')!r}, this localcore reads "
                f"format {FORMAT}: {_FIX}"
            )
        parts = document["parts"]
        return {name: part for name, part in parts.items() if isinstance(part, dict)}

    def write(self, parts: dict[str, dict[str, Any]]) -> None:
        write_private_json(self.path, {"format": FORMAT, "saved_at": time.time(), "parts": parts})
