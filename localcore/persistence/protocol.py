"""The snapshot protocol every persistent backend implements (structurally: backends never import it).

    class RetainedStore:                       # e.g. the broker's retained messages
        def to_snapshot(self) -> Snapshot: ...       # a copy, JSON-ready (bytes as base64 text)
        def restore(self, snapshot: Snapshot) -> None: ...
        def on_change(self, listener: ChangeListener) -> None: ...

Rules for implementers:
- `to_snapshot()` returns fresh data (no live object), JSON types only: it is serialised on another thread.
- `restore(snapshot)` runs once, at start, before any server listens, on a backend already loaded with the
  project's files and the configuration: what those define wins, the snapshot adds the rest (so editing a rule
  file and restarting applies the file). Unknown keys are ignored; a value that cannot be restored raises
  `ValueError` naming it (the saver reports it in one line with the state file's name).
- `on_change(listener)`: call `listener()` after each change worth saving, from any thread; cheap (the saver
  only schedules a write). Calling it when nothing changed is harmless: identical snapshots are not rewritten.
- Keep the snapshot's keys stable; add new ones rather than changing the meaning of old ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

Snapshot = Mapping[str, Any]
ChangeListener = Callable[[], None]


class Snapshotting(Protocol):
    """A backend whose state can be saved and restored."""

    def to_snapshot(self) -> dict[str, Any]:
        """The state as JSON-ready data (a copy)."""
        ...

    def restore(self, snapshot: Snapshot) -> None:
        """Add the saved state to what the backend was started with (what it already has wins)."""
        ...

    def on_change(self, listener: ChangeListener) -> None:
        """Call `listener()` after every change of the state `to_snapshot` returns."""
        ...
