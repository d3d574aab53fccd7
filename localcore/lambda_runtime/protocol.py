"""Parent side of the worker pipe protocol: 4-byte big-endian length, then a UTF-8 JSON object.

Parent to worker: `{"type": "invoke", "request_id", "event", "deadline_ms", "invoked_function_arn"}`.
Worker to parent: `{"type": "ready", "init_error"?}` once after import, then per invoke
`{"type": "result", "request_id", "payload", "max_memory_mb"}` or
`{"type": "error", "request_id", "error": {errorMessage, errorType, stackTrace}, "max_memory_mb"}`.
Handler output goes to the worker's stderr; after each phase the worker writes a marker line
(`LOG_MARKER` + tag) there so the parent knows it has read every line of that phase.
The worker (`bootstrap.py`) re-implements the same framing with the standard library only.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

from localcore.lambda_runtime.errors import WorkerProtocolError

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 64 * 1024 * 1024
LOG_MARKER = "\x1elocalcore-lambda-mark "


def encode_frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any]:
    """Read one frame; raises `asyncio.IncompleteReadError` when the worker has gone away."""
    (length,) = HEADER.unpack(await reader.readexactly(HEADER.size))
    if length > MAX_FRAME_BYTES:
        raise WorkerProtocolError(f"Worker frame of {length} bytes exceeds {MAX_FRAME_BYTES}")
    body = await reader.readexactly(length)
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise WorkerProtocolError(f"Worker sent a frame that is not JSON: {exc}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise WorkerProtocolError("Worker sent a frame without a type")
    return message
