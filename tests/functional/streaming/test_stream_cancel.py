"""Cancel through localcore: `{"rid"}` on chat/{id}/cancel -> rule iotstream_cancel -> cancel Lambda -> flag in
DynamoDB -> the streaming loop ends the answer with `stop: cancelled`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from iotstream_lambdas.streaming.llm.scripted import split_tokens
from iotstream_lambdas.streaming.wire import Delta, End, Start, cancel_topic, event_text
from localcore.testing import RunningLocalcore
from tests.support.streamkit import connected_user, running_stack, runtime

SCRIPT = " ".join(f"word{i}" for i in range(60)) + "."
TOKENS_PER_S = 5


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    environment = {
        "LLM_PROVIDER": "scripted",
        "SCRIPTED_TEXT": SCRIPT,
        "SCRIPTED_TOKENS_PER_S": str(TOKENS_PER_S),
        "CANCEL_POLL_MS": "0",
    }
    with running_stack(environment) as running:
        warm = {"rid": str(uuid.uuid4()), "identity_id": "us-east-1:warm-up"}
        running.thread.run(runtime(running).invoke("cancel", warm))
        yield running


def test_cancel_mid_stream_ends_with_stop_cancelled_within_about_a_chunk(stack: RunningLocalcore) -> None:
    """docs/architecture.md topics: a user publishes `{"rid"}` on chat/{id}/cancel (policy: own id only); the stream ends
    with exactly one `end` whose stop is `cancelled`, a prefix of the answer, and little text after the
    cancel (a slow model: one token every 200 ms; the check runs at every chunk)."""
    with connected_user(stack) as user:
        rid = str(uuid.uuid4())
        before: list[str] = []
        after: list[str] = []
        events = []
        cancel_sent = False
        for event in user.chat.ask("count slowly", rid=rid):
            events.append(event)
            if not isinstance(event, Start | Delta):  # text rides on `start`, deltas (and `end`)
                continue
            (after if cancel_sent else before).append(event_text(event))
            if not cancel_sent and len(split_tokens("".join(before))) >= 3:
                user.mqtt.publish(cancel_topic(user.identity), json.dumps({"rid": rid}), qos=1)
                cancel_sent = True
    assert isinstance(events[0], Start) and isinstance(events[-1], End) and events[-1].stop == "cancelled"
    text = "".join(before + after) + event_text(events[-1])
    after.append(event_text(events[-1]))
    assert SCRIPT.startswith(text) and len(text) < len(SCRIPT)
    assert (
        len(split_tokens("".join(after))) <= 3
    )  # ~1-2 chunks at 5 tokens/s; 3 leaves room for a busy machine
