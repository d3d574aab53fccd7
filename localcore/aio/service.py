"""A server that `async with` starts and stops (aiomqtt's `Client`, websockets' `Server`): `start()` either
succeeds or leaves nothing running, `stop()` undoes it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Service(ABC):
    """`async with service:` runs `start()` on entry and `stop()` on exit (also callable directly)."""

    @abstractmethod
    async def start(self) -> None:
        """Start, or raise with nothing left running."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop what `start` started."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
