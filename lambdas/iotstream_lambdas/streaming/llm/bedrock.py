"""Amazon Bedrock through the Converse streaming API (`bedrock-runtime` `converse_stream`).

Event shapes (Bedrock API reference, ConverseStream "Response Syntax"): `messageStart`,
`contentBlockStart`, `contentBlockDelta` {delta: {text}}, `contentBlockStop`, `messageStop`
{stopReason}, `metadata` {usage: {inputTokens, outputTokens}}, and the modelled stream errors
(`internalServerException`, `modelStreamErrorException`, `validationException`,
`throttlingException`, `serviceUnavailableException`). `metadata` arrives after `messageStop`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

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

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

_STREAM_ERRORS = (
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
)
MAX_TEMPERATURE = 1.0
"""Converse accepts temperature 0-1 (API_runtime_InferenceConfiguration); the wire protocol allows up to 2
(for OpenAI-compatible models), so a higher value is sent as 1 instead of failing with ValidationException."""
_STOP_MAP: Mapping[str, FinishReason] = {"max_tokens": "max_tokens"}
"""Bedrock stop reasons other than max_tokens (end_turn, stop_sequence, guardrail_intervened,
content_filtered, tool_use) all end the turn as far as the wire protocol is concerned."""


def build_converse_request(
    model_id: str, messages: Sequence[Message], params: GenerationParams
) -> dict[str, Any]:
    """The keyword arguments of `converse_stream`: system prompts apart, alternating user/assistant turns.

    `model_id` is passed as the `modelId` unchanged: a foundation model id, a cross-Region inference profile id
    (`global.amazon.nova-2-lite-v1:0`) or an ARN are all accepted there (API_runtime_ConverseStream).
    """
    system = [{"text": m.content} for m in messages if m.role == "system"]
    turns: list[dict[str, Any]] = []
    for message in (m for m in messages if m.role != "system"):
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"].append({"text": message.content})
        else:
            turns.append({"role": message.role, "content": [{"text": message.content}]})
    inference: dict[str, Any] = {"maxTokens": params.max_tokens}
    if params.temperature is not None:
        inference["temperature"] = min(params.temperature, MAX_TEMPERATURE)
    request: dict[str, Any] = {"modelId": model_id, "messages": turns, "inferenceConfig": inference}
    if system:
        request["system"] = system
    return request


def map_converse_events(events: Iterable[Mapping[str, Any]]) -> Iterator[Chunk]:
    """Turn ConverseStream events into provider chunks; the `Finish` comes once the stream is over."""
    stop: FinishReason = "end_turn"
    usage = Usage()
    for event in events:
        if "contentBlockDelta" in event:
            text = event["contentBlockDelta"].get("delta", {}).get("text")
            if text:
                yield TextChunk(text)
        elif "messageStop" in event:
            stop = _STOP_MAP.get(event["messageStop"].get("stopReason", ""), "end_turn")
        elif "metadata" in event:
            raw = event["metadata"].get("usage", {})
            usage = Usage(int(raw.get("inputTokens", 0)), int(raw.get("outputTokens", 0)))
        else:
            for name in _STREAM_ERRORS:
                if name in event:
                    raise ProviderError("provider_error", _safe_message(name))
    yield Finish(stop, usage)


def _safe_message(error_name: str) -> str:
    if error_name in ("throttlingException", "ThrottlingException", "ServiceQuotaExceededException"):
        return "The model is busy right now; please try again shortly."
    return "The model failed while answering; please try again."


@contextmanager
def _provider_errors(unreachable: str) -> Iterator[None]:
    """botocore's failures as the `provider_error` the client is shown: AWS's error code decides the words
    (`_safe_message`; an EventStreamError while iterating is a ClientError too), a transport failure says
    `unreachable`."""
    try:
        yield
    except ClientError as exc:
        raise ProviderError("provider_error", _safe_message(exc.response["Error"].get("Code", ""))) from exc
    except BotoCoreError as exc:
        raise ProviderError("provider_error", unreachable) from exc


@dataclass
class BedrockProvider:
    """Streams from a Bedrock model with `converse_stream` through an injected boto3 client."""

    client: BedrockRuntimeClient
    model_id: str

    @property
    def model(self) -> str:
        return self.model_id

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        with _provider_errors("The model could not be reached; please try again."):
            response = self.client.converse_stream(**build_converse_request(self.model_id, messages, params))
        stream = response["stream"]
        try:
            with _provider_errors("The connection to the model broke; please try again."):
                yield from map_converse_events(stream)
        finally:
            stream.close()
