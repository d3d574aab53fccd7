"""Any OpenAI-compatible `/v1/chat/completions` endpoint with `stream: true`, standard library only.

The response is Server-Sent Events: `data: {chat.completion.chunk}` lines separated by blank
lines, ending with `data: [DONE]`. Text is in `choices[0].delta.content`, the stop reason in
`choices[0].finish_reason` (`stop` | `length` | ...), and usage (with
`stream_options.include_usage`) in a last chunk whose `choices` is empty.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from iotstream_lambdas.streaming.errors import ProviderError
from iotstream_lambdas.streaming.llm.base import (
    Chunk,
    Finish,
    FinishReason,
    GenerationParams,
    Message,
    TextChunk,
)
from iotstream_lambdas.streaming.wire import Usage


def iter_sse_data(lines: Iterable[bytes]) -> Iterator[str]:
    """Yield the data of each Server-Sent Event (multi-line data joined by newlines); comments skipped."""
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def map_completion_chunks(payloads: Iterable[str]) -> Iterator[Chunk]:
    """Turn SSE data payloads of chat.completion.chunk objects into provider chunks."""
    stop: FinishReason = "end_turn"
    usage = Usage()
    finished = False
    for payload in payloads:
        if payload.strip() == "[DONE]":
            finished = True
            break
        try:
            chunk = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise ProviderError("provider_error", "The model sent a malformed stream.") from exc
        if not isinstance(chunk, dict):
            raise ProviderError("provider_error", "The model sent a malformed stream.")
        if "error" in chunk:
            raise ProviderError("provider_error", "The model failed while answering; please try again.")
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield TextChunk(content)
            if choice.get("finish_reason"):
                finished = True
            if choice.get("finish_reason") == "length":
                stop = "max_tokens"
        raw_usage = chunk.get("usage")
        if isinstance(raw_usage, dict):
            usage = Usage(
                int(raw_usage.get("prompt_tokens") or 0), int(raw_usage.get("completion_tokens") or 0)
            )
    if not finished:
        raise ProviderError("provider_error", "The connection to the model broke; please try again.")
    yield Finish(stop, usage)


@dataclass
class OpenAICompatibleProvider:
    """Streams from `{base_url}/chat/completions` (base_url like `http://host:8000/v1`)."""

    base_url: str
    model_name: str
    api_key: str | None = None
    timeout_s: float = 60.0
    include_usage: bool = True

    @property
    def model(self) -> str:
        return self.model_name

    def build_body(self, messages: Sequence[Message], params: GenerationParams) -> dict[str, Any]:
        """The JSON request body."""
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": params.max_tokens,
        }
        if params.temperature is not None:
            body["temperature"] = params.temperature
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        return body

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.base_url.rstrip("/") + "/chat/completions",
            data=json.dumps(self.build_body(messages, params)).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout_s)  # configured URL
        except urllib.error.HTTPError as exc:
            exc.close()
            message = "The model is busy right now; please try again shortly." if exc.code == 429 else None
            raise ProviderError("provider_error", message or "The model refused the request.") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ProviderError(
                "provider_error", "The model could not be reached; please try again."
            ) from exc
        try:
            yield from map_completion_chunks(iter_sse_data(response))
        except (OSError, UnicodeDecodeError) as exc:
            raise ProviderError(
                "provider_error", "The connection to the model broke; please try again."
            ) from exc
        finally:
            response.close()
