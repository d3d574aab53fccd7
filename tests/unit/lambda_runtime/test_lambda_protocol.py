"""The worker pipe protocol: both ends frame messages the same way."""

from __future__ import annotations

import asyncio
import io
import time

import pytest

from localcore.lambda_runtime import WorkerProtocolError, bootstrap
from localcore.lambda_runtime.protocol import LOG_MARKER, encode_frame, read_frame


def test_parent_frames_are_read_by_the_worker_and_back() -> None:
    """Length-prefixed JSON survives the round trip in both directions, unicode included."""
    message = {"type": "invoke", "request_id": "r", "event": {"text": "héllo ✓", "n": [1, 2]}}
    assert bootstrap._read_frame(io.BytesIO(encode_frame(message))) == message

    out = io.BytesIO()
    bootstrap._write_frame(out, {"type": "result", "payload": "ok"})

    async def read_back():
        reader = asyncio.StreamReader()
        reader.feed_data(out.getvalue())
        reader.feed_eof()
        return await read_frame(reader)

    assert asyncio.run(read_back()) == {"type": "result", "payload": "ok"}
    assert bootstrap.LOG_MARKER == LOG_MARKER


def test_a_frame_that_is_not_a_typed_json_object_is_a_protocol_error() -> None:
    """A worker that writes garbage is reported, not trusted."""

    async def read(data: bytes):
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await read_frame(reader)

    with pytest.raises(WorkerProtocolError):
        asyncio.run(read(b"\x00\x00\x00\x03abc"))
    with pytest.raises(WorkerProtocolError):
        asyncio.run(read(b"\x00\x00\x00\x02[]"))
    with pytest.raises(asyncio.IncompleteReadError):
        asyncio.run(read(b"\x00\x00"))


def test_context_counts_down_to_the_deadline_and_never_below_zero() -> None:
    """get_remaining_time_in_millis returns the milliseconds left before the timeout (python-context.html)."""
    now_ms = int(time.time() * 1000)
    context = bootstrap.LambdaContext("r", "arn", now_ms + 60_000)
    assert 59_000 < context.get_remaining_time_in_millis() <= 60_000
    assert bootstrap.LambdaContext("r", "arn", now_ms - 5).get_remaining_time_in_millis() == 0


def test_error_payload_leaves_out_the_runtimes_own_frames() -> None:
    """stackTrace lists the user's frames as formatted strings (python-exceptions.html)."""

    def user_code() -> None:
        raise KeyError("missing")

    try:
        user_code()
    except KeyError as exc:
        payload = bootstrap.error_payload(exc)
    assert payload["errorType"] == "KeyError" and payload["errorMessage"] == "'missing'"
    assert any("in user_code" in frame for frame in payload["stackTrace"])
    assert all("bootstrap.py" not in frame for frame in payload["stackTrace"])
