"""The provider interface: a sync iterator of `TextChunk`s that ends with exactly one `Finish`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from iotstream_lambdas.streaming.wire import Usage

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["end_turn", "max_tokens"]
DEFAULT_MAX_TOKENS = 512
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer clearly and concisely."


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of the conversation sent to the model."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """How much and how randomly to generate."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A piece of generated text, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class Finish:
    """The last item of every successful generation."""

    stop_reason: FinishReason
    usage: Usage


Chunk = TextChunk | Finish


class Provider(Protocol):
    """A language model that streams. `stream` raises `ProviderError` (safe message) on failure.

    Callers may stop early by closing the returned iterator (`close()` on a generator), which
    must release the underlying connection or model.
    """

    @property
    def model(self) -> str:
        """The model name reported in the `start` event."""
        ...

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        """Generate an answer to `messages` (history then the prompt, oldest first)."""
        ...
