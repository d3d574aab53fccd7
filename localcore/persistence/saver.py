"""`StateSaver`: restores the parts at start, then saves them a moment after each change and once at stop.

    saver = StateSaver(StateFile(state_dir / STATE_FILE), {"iot": iot_backend, "identity": identity, ...})
    async with saver:      # restore every part, then follow their changes
        ...                # a change is written within `delay` seconds (one write for a burst of changes)
                           # leaving the block writes the final state

Sections of the file that no part claims (written by a newer localcore) are carried over untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from localcore.aio.service import Service
from localcore.errors import LocalcoreError
from localcore.persistence.protocol import Snapshotting
from localcore.persistence.state_file import PersistenceError, StateFile

log = logging.getLogger("localcore.persistence")
SAVE_DELAY_SECONDS = 0.5


class StateSaver(Service):
    """Restores `parts` from `file` at start; writes them after changes (debounced by `delay`) and at stop."""

    def __init__(
        self, file: StateFile, parts: Mapping[str, Snapshotting], delay: float = SAVE_DELAY_SECONDS
    ) -> None:
        self.file = file
        self.parts = dict(parts)
        self.delay = delay
        self.saves = 0
        """How many times the file was written (a burst of changes makes one write)."""
        self._carried: dict[str, dict[str, Any]] = {}
        self._last: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dirty: asyncio.Event | None = None
        self._saved: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._subscribed = False

    async def start(self) -> None:
        """Restore every part from the file (PersistenceError names the file and the part), then follow changes."""
        saved = await asyncio.to_thread(self.file.read)
        for name, part in self.parts.items():
            if name in saved:
                try:
                    part.restore(saved[name])
                except (ValueError, KeyError, TypeError, LocalcoreError) as error:
                    raise PersistenceError(
                        f"state file {self.file.path}: cannot restore {name}: {error}: "
                        "move the file away (or start without --persist)"
                    ) from None
        self._carried = {name: part for name, part in saved.items() if name not in self.parts}
        self._loop = asyncio.get_running_loop()
        self._dirty = asyncio.Event()
        self._saved = asyncio.Event()
        if not self._subscribed:
            for part in self.parts.values():
                part.on_change(self.changed)
            self._subscribed = True
        self._writer = asyncio.create_task(self._write_after_changes(), name="localcore-state-saver")
        log.info(
            "state restored from %s (%s)", self.file.path, ", ".join(sorted(saved)) or "nothing saved yet"
        )

    def changed(self) -> None:
        """A part changed (callable from any thread): write within `delay` seconds."""
        loop, dirty = self._loop, self._dirty
        if loop is None or dirty is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: stop() saved already
            loop.call_soon_threadsafe(dirty.set)

    async def save(self) -> None:
        """Write every part now (skipped when nothing changed since the last write)."""
        parts = {**self._carried, **{name: part.to_snapshot() for name, part in self.parts.items()}}
        await asyncio.to_thread(self._write, parts)
        if self._saved is not None:
            self._saved.set()

    async def wait_saves(self, count: int) -> None:
        """Until the file has been written `count` times since the start (tests: a change reached the disk)."""
        saved = self._saved
        assert saved is not None, "the saver is not started"
        while self.saves < count:
            saved.clear()
            await saved.wait()

    def _write(self, parts: dict[str, dict[str, Any]]) -> None:
        encoded = json.dumps(parts, sort_keys=True)
        if encoded == self._last:
            return
        self.file.write(parts)
        self._last = encoded
        self.saves += 1

    async def _write_after_changes(self) -> None:
        dirty = self._dirty
        assert dirty is not None
        while True:
            await dirty.wait()
            await asyncio.sleep(self.delay)  # gather a burst of changes into one write
            dirty.clear()
            try:
                await self.save()
            except Exception:  # boundary: a failed write (disk full) is retried at the next change or stop
                log.exception("saving localcore's state to %s failed", self.file.path)

    async def stop(self) -> None:
        """Stop following changes and write the final state."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        self._loop = None
        await self.save()
