"""Shared helpers for the Lambda runtime's functional tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from localcore.lambda_runtime import FunctionConfig

CODE_ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "lambdas"
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDLOCAL",
    "AWS_SECRET_ACCESS_KEY": "local-secret",
    "AWS_SESSION_TOKEN": "local-token",
    "AWS_REGION": "eu-west-1",
}
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run one test coroutine with an overall deadline (a hang fails the test instead of blocking)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def function(name: str, handler: str, **settings: Any) -> FunctionConfig:
    return FunctionConfig(name=name, handler=f"handlers.{handler}", code_root=CODE_ROOT, **settings)


class Gate:
    """A local TCP server that holds `handlers.gate.hold` invocations until released."""

    def __init__(self) -> None:
        self.arrived: dict[str, asyncio.Event] = {}
        self._writers: dict[str, asyncio.StreamWriter] = {}
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Gate:
        self._server = await asyncio.start_server(self._on_connect, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers.values():
            writer.close()
        assert self._server is not None
        self._server.close()

    def event(self, name: str) -> dict[str, Any]:
        self.arrived.setdefault(name, asyncio.Event())
        return {"port": self.port, "name": name}

    async def wait_arrived(self, name: str) -> None:
        await self.arrived.setdefault(name, asyncio.Event()).wait()

    async def release(self, name: str) -> None:
        writer = self._writers.pop(name)
        writer.write(b"go\n")
        await writer.drain()
        writer.close()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = (await reader.readline()).decode().strip()
        self._writers[name] = writer
        self.arrived.setdefault(name, asyncio.Event()).set()
