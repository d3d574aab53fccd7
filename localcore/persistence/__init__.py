"""Opt-in persistence (`iotstream up --persist`): the backends' state in one file of the state dir.

A backend that survives a restart implements `Snapshotting` (`protocol.py`): `to_snapshot()` gives its state as
JSON-ready data, `restore(snapshot)` takes it back at the next start, `on_change(listener)` says when to save.
`StateSaver` (`saver.py`) restores every part at start, writes the file atomically a moment after a change
and once more at stop; `StateFile` (`state_file.py`) is the file itself.
"""

from __future__ import annotations

from localcore.persistence.protocol import ChangeListener, Snapshot, Snapshotting
from localcore.persistence.saver import StateSaver
from localcore.persistence.state_file import STATE_FILE, PersistenceError, StateFile

__all__ = [
    "STATE_FILE",
    "ChangeListener",
    "PersistenceError",
    "Snapshot",
    "Snapshotting",
    "StateFile",
    "StateSaver",
]
