"""Files only their owner may read (mode 0600): the admin credentials, the ready file that repeats them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private_json(path: Path, document: Mapping[str, object]) -> None:
    """Atomically write `document` as JSON, readable by its owner only (readers never see a partial file,
    and the file is never group- or world-readable, not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps(document, indent=2) + "\n")
    temporary.replace(path)
