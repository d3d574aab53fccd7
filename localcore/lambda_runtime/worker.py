"""One worker process (one warm sandbox) seen from the parent: spawn, invoke, kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from localcore.lambda_runtime import records
from localcore.lambda_runtime.errors import WorkerProtocolError
from localcore.lambda_runtime.protocol import LOG_MARKER, encode_frame, read_frame

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
MARK_GRACE_SECONDS = 2.0
"""How long to wait for the end-of-phase log marker once the worker has replied or died."""

OutcomeKind = Literal["ok", "error", "timeout", "exit"]


@dataclass
class Outcome:
    """What one phase (init or invoke) of a worker produced."""

    kind: OutcomeKind
    payload: Any = None
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    log_lines: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.kind != "ok"


class Worker:
    """A `bootstrap.py` subprocess serving one invocation at a time; discarded after a timeout or exit."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        log_stream_name: str,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self._process = process
        self.log_stream_name = log_stream_name
        self._on_line = on_line  # each line the worker writes, as it arrives
        self._lines: list[str] = []
        self._marks: dict[str, asyncio.Future[None]] = {}
        self._eof = asyncio.Event()
        self._pump = asyncio.create_task(self._pump_logs())
        self.healthy = False
        self.invocations = 0
        self.max_memory_mb = 0

    @classmethod
    async def spawn(
        cls,
        python: str,
        env: dict[str, str],
        cwd: Path,
        log_stream_name: str,
        on_line: Callable[[str], None] | None = None,
    ) -> Worker:
        process = await asyncio.create_subprocess_exec(
            python,
            "-P",
            str(BOOTSTRAP),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        return cls(process, log_stream_name, on_line)

    @property
    def alive(self) -> bool:
        """Usable for another invocation: healthy, and its process has not gone away while idle."""
        return self.healthy and self._process.returncode is None and not self._eof.is_set()

    @property
    def pid(self) -> int:
        return self._process.pid

    async def wait_ready(self, init_timeout: float, request_id: str) -> Outcome:
        """The init phase: importing the handler module (the cold start) for invocation `request_id`."""
        started = time.monotonic()
        try:
            frame = await asyncio.wait_for(self._read(), init_timeout)
        except TimeoutError:
            await self.kill()
            outcome = Outcome("timeout", records.timeout_error(request_id, init_timeout))
            outcome.duration_ms = (time.monotonic() - started) * 1000
            return await self._finish("init", outcome)
        except (asyncio.IncompleteReadError, ConnectionError):
            return await self._died("init", request_id, started)
        except WorkerProtocolError as error:
            return await self._unusable("init", request_id, started, error)
        outcome = Outcome("ok") if frame.get("init_error") is None else Outcome("error", frame["init_error"])
        self.healthy = not outcome.failed
        outcome.max_memory_mb = self.max_memory_mb = int(frame.get("max_memory_mb", 0))
        outcome.duration_ms = (time.monotonic() - started) * 1000
        return await self._finish("init", outcome)

    async def invoke(self, request_id: str, event: Any, function_arn: str, timeout: float) -> Outcome:
        """Run one invocation; on timeout the whole process group is killed."""
        self.invocations += 1
        self.healthy = False  # until a complete reply arrives: a cancelled invoke must not leave it warm
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        message = {
            "type": "invoke",
            "request_id": request_id,
            "event": event,
            "deadline_ms": deadline_ms,
            "invoked_function_arn": function_arn,
        }
        try:
            stdin = self._process.stdin
            assert stdin is not None
            stdin.write(encode_frame(message))
            await stdin.drain()
            frame = await asyncio.wait_for(self._read(), timeout)
        except TimeoutError:
            await self.kill()
            outcome = Outcome("timeout", records.timeout_error(request_id, timeout))
            outcome.duration_ms = (time.monotonic() - started) * 1000
            return await self._finish(request_id, outcome)
        except (asyncio.IncompleteReadError, ConnectionError):
            return await self._died(request_id, request_id, started)
        except WorkerProtocolError as error:
            return await self._unusable(request_id, request_id, started, error)
        self.healthy = True
        if frame["type"] == "result":
            outcome = Outcome("ok", frame.get("payload"))
        else:
            outcome = Outcome("error", frame.get("error"))
        outcome.max_memory_mb = self.max_memory_mb = int(frame.get("max_memory_mb", 0))
        outcome.duration_ms = (time.monotonic() - started) * 1000
        return await self._finish(request_id, outcome)

    async def kill(self) -> None:
        """Kill the worker and anything it started; it will not be reused."""
        self.healthy = False
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        await self._process.wait()

    async def close(self) -> None:
        await self.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._eof.wait(), MARK_GRACE_SECONDS)
        self._pump.cancel()

    async def _read(self) -> dict[str, Any]:
        stdout = self._process.stdout
        assert stdout is not None
        return await read_frame(stdout)

    async def _died(self, tag: str, request_id: str, started: float) -> Outcome:
        self.healthy = False
        returncode = await self._process.wait()
        outcome = Outcome("exit", records.exit_error(request_id, returncode))
        outcome.duration_ms = (time.monotonic() - started) * 1000
        return await self._finish(tag, outcome)

    async def _unusable(
        self, tag: str, request_id: str, started: float, error: WorkerProtocolError
    ) -> Outcome:
        """The worker broke the protocol (an oversized or garbled reply): it is killed, the call fails."""
        await self.kill()
        outcome = Outcome("exit", records.invalid_response_error(request_id, str(error)))
        outcome.duration_ms = (time.monotonic() - started) * 1000
        return await self._finish(tag, outcome)

    async def _finish(self, tag: str, outcome: Outcome) -> Outcome:
        """Attach every log line of this phase: up to the marker, or up to EOF if the worker died."""
        mark = self._marks.setdefault(tag, asyncio.get_running_loop().create_future())
        eof: asyncio.Future[bool] = asyncio.ensure_future(self._eof.wait())
        waits: set[asyncio.Future[Any]] = {mark, eof}
        await asyncio.wait(waits, timeout=MARK_GRACE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        eof.cancel()
        self._marks.pop(tag, None)
        outcome.log_lines, self._lines = self._lines, []
        outcome.max_memory_mb = outcome.max_memory_mb or self.max_memory_mb
        return outcome

    async def _pump_logs(self) -> None:
        stderr = self._process.stderr
        assert stderr is not None
        pending = b""
        while chunk := await stderr.read(65536):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                self._take_line(raw.decode(errors="replace"))
        if pending:
            self._take_line(pending.decode(errors="replace"))
        self._eof.set()

    def _take_line(self, line: str) -> None:
        before, marker, tag = line.partition(LOG_MARKER)
        if before or not marker:
            text = before.rstrip("\r")
            self._lines.append(text)
            if self._on_line is not None:
                self._on_line(text)
        if marker:
            mark = self._marks.setdefault(tag, asyncio.get_running_loop().create_future())
            if not mark.done():
                mark.set_result(None)
