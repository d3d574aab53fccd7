"""A deterministic provider for tests and benchmarks: fixed text at a chosen speed, optional failure."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from iotstream_lambdas.streaming.errors import ProviderError
from iotstream_lambdas.streaming.llm.base import Chunk, Finish, GenerationParams, Message, TextChunk
from iotstream_lambdas.streaming.wire import Usage

DEFAULT_SCRIPT = (
    "MQTT streaming works. Each token travels from the model to the Lambda, is coalesced with its "
    "neighbours, and reaches every subscriber in order. "
)
_TOKEN_RE = re.compile(r"\s*\S+|\s+$")


def split_tokens(text: str) -> list[str]:
    """Split text into word-like tokens that concatenate back to the text exactly."""
    return _TOKEN_RE.findall(text)


@dataclass
class ScriptedProvider:
    """Streams `text` token by token.

    `ttft_s` is the delay before the first token, `tokens_per_s` the rate after it (0 = no delay).
    `sleep` is injectable so logic tests run instantly or are driven step by step; it receives the
    delay before each token (also when 0) together with the index of the token about to be emitted.
    With `fail_after=n` the stream raises `ProviderError(fail_code, fail_message)` after n tokens; with
    `stall_after=n` it goes silent for `stall_s` seconds after n tokens (a hung model), then goes on.
    Tokens follow an absolute schedule (token i at `ttft_s + i / tokens_per_s`), so the average rate is
    exact and scheduling jitter does not accumulate.
    """

    text: str = DEFAULT_SCRIPT
    ttft_s: float = 0.0
    tokens_per_s: float = 0.0
    fail_after: int | None = None
    fail_code: str = "provider_error"
    fail_message: str = "The model stopped unexpectedly."
    stall_after: int | None = None
    stall_s: float = 0.0
    model_name: str = "scripted"
    sleep: Callable[[float, int], None] | None = None

    @property
    def model(self) -> str:
        return self.model_name

    def _wait(self, delay: float, index: int) -> None:
        if self.sleep is not None:
            self.sleep(delay, index)
        elif delay > 0:
            time.sleep(delay)  # simulates generation time; nothing is waited for

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        tokens = split_tokens(self.text)
        input_tokens = sum(len(split_tokens(m.content)) for m in messages)
        per_token = 1.0 / self.tokens_per_s if self.tokens_per_s > 0 else 0.0
        emitted = 0
        started = time.monotonic()
        offset = self.ttft_s
        for index, token in enumerate(tokens):
            if emitted >= params.max_tokens:
                yield Finish("max_tokens", Usage(input_tokens, emitted))
                return
            if self.fail_after is not None and emitted >= self.fail_after:
                raise ProviderError(self.fail_code, self.fail_message)
            stall = self.stall_s if self.stall_after is not None and emitted == self.stall_after else 0.0
            offset += stall
            due = offset + index * per_token
            if self.sleep is not None:
                self._wait((self.ttft_s if index == 0 else per_token) + stall, index)
            else:
                self._wait(max(0.0, started + due - time.monotonic()), index)
            emitted += 1
            yield TextChunk(token)
        if self.fail_after is not None and emitted >= self.fail_after:
            raise ProviderError(self.fail_code, self.fail_message)
        yield Finish("end_turn", Usage(input_tokens, emitted))
