"""The one error root of the streaming package; every error carries a machine-readable code."""

from __future__ import annotations


class StreamingError(Exception):
    """Root of every error raised by the streaming package.

    `code` is a stable machine-readable reason; `message` is safe to show to an end user.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ProtocolError(StreamingError):
    """A prompt or event that does not follow wire protocol v1.

    `rid` is the request id when one could still be recovered from the bad message (so the error
    can be answered on that request's response topic), else None.
    """

    def __init__(self, code: str, message: str, rid: str | None = None) -> None:
        super().__init__(code, message)
        self.rid = rid


class ProviderError(StreamingError):
    """The language model failed; `message` is safe to show (no stack traces, no secrets)."""


class PublishError(StreamingError):
    """Publishing to AWS IoT (iot-data Publish) failed after retries."""
