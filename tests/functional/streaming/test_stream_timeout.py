"""A stalled model near the Lambda timeout: the stream ends with `stop: timeout`, never silence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iotstream_lambdas.streaming.llm.scripted import split_tokens
from iotstream_lambdas.streaming.wire import End, Start
from localcore.testing import RunningLocalcore
from tests.support.streamkit import connected_user, running_stack

SCRIPT = "One two three four five six seven eight."


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    environment = {
        "LLM_PROVIDER": "scripted",
        "SCRIPTED_TEXT": SCRIPT,
        "SCRIPTED_TOKENS_PER_S": "50",
        "SCRIPTED_STALL_AFTER": "3",
        "SCRIPTED_STALL_MS": "60000",
    }
    with running_stack(environment, timeouts={"prompt": 3.0}) as running:
        yield running


def test_stalled_model_ends_with_stop_timeout_before_the_function_timeout(stack: RunningLocalcore) -> None:
    """AWS Lambda kills an invocation at its timeout (configuration-timeout.html); the service watches
    get_remaining_time_in_millis() and publishes `end` with `stop: timeout` first, so the client is never
    left without a terminal event. Here: a 3 s function timeout and a model that goes silent after 3 tokens."""
    with connected_user(stack) as user:
        events = list(user.chat.ask("tell me everything", conversation="t1"))
        stack.wait_lambdas_idle()
        recorded = user.recorder.events()
    assert isinstance(events[0], Start) and isinstance(events[-1], End) and events[-1].stop == "timeout"
    assert user.chat.last_stream is not None
    assert user.chat.last_stream.text == "".join(split_tokens(SCRIPT)[:3])
    assert len(recorded) == len(events)  # the invocation succeeded: no retry, no second stream
