"""The real embedded model (SmolLM2 through llama.cpp) end to end through localcore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iotstream_lambdas.streaming.wire import End, Params, Start
from localcore.testing import RunningLocalcore
from tests.support.model_support import require_llama_cpp
from tests.support.streamkit import connected_user, running_stack, stored_answer

pytestmark = pytest.mark.model
require_llama_cpp()


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    with running_stack({"LLM_PROVIDER": "local"}, timeouts={"prompt": 120.0}) as running:
        yield running


def test_embedded_model_answer_streams_through_localcore(stack: RunningLocalcore) -> None:
    """docs/architecture.md flow with the `local` provider: a real generated answer arrives in order, ends with one
    `end`, and equals what the Lambda recorded as the model's output."""
    with connected_user(stack) as user:
        user.chat.idle_timeout = 90
        events = list(user.chat.ask("Name a colour.", conversation="m1", params=Params(max_tokens=12)))
    assert isinstance(events[0], Start) and "smollm2" in events[0].model.lower()
    end = events[-1]
    assert isinstance(end, End) and end.stop in ("end_turn", "max_tokens")
    assert 0 < end.usage.output_tokens <= 12
    assert user.chat.last_stream is not None
    text = user.chat.last_stream.text
    assert text.strip() and text == stored_answer(stack, user.identity, "m1")
