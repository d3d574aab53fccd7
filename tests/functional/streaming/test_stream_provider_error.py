"""A model failure mid-stream through localcore: the text so far, then exactly one safe `error` event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iotstream_lambdas.streaming.llm.scripted import split_tokens
from iotstream_lambdas.streaming.wire import E_PROVIDER, End, Error, Start
from localcore.testing import RunningLocalcore
from tests.support.streamkit import connected_user, running_stack

SCRIPT = "Alpha beta gamma delta epsilon zeta eta theta iota kappa."


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    environment = {
        "LLM_PROVIDER": "scripted",
        "SCRIPTED_TEXT": SCRIPT,
        "SCRIPTED_TOKENS_PER_S": "100",
        "SCRIPTED_FAIL_AFTER": "4",
    }
    with running_stack(environment) as running:
        yield running


def test_provider_error_mid_stream_gives_one_safe_error_event(stack: RunningLocalcore) -> None:
    """docs/protocol.md: exactly one terminal event per request; an `error` carries a code and a
    message safe to show (no stack trace, no exception names), after the text already streamed."""
    with connected_user(stack) as user:
        events = list(user.chat.ask("go"))
        stack.wait_lambdas_idle()
        recorded = user.recorder.events()
    assert isinstance(events[0], Start) and isinstance(events[-1], Error)
    assert sum(isinstance(e, End | Error) for e in recorded) == 1 and len(recorded) == len(events)
    error = events[-1]
    assert error.code == E_PROVIDER and error.message == "The model stopped unexpectedly."
    assert user.chat.last_stream is not None
    assert user.chat.last_stream.text == "".join(split_tokens(SCRIPT)[:4])
