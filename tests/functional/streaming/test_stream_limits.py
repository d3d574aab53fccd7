"""Per-identity limits through localcore, the path a deployed stack takes: prompt on chat/{id}/prompt -> rule
iotstream_prompt (adds `timestamp() AS received_at_ms`) -> prompt Lambda -> `iotstream_lambdas.streaming.admission` on the state
table -> one `error` event with a documented code for the identity over its limit, while another identity
streams as usual. Limits come from the Lambda's environment, as the CDK stack sets them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

from iotstream_lambdas.streaming.wire import (
    E_PROMPT_EXPIRED,
    E_RATE_LIMITED,
    E_TOO_MANY_STREAMS,
    End,
    Error,
    Event,
    Params,
    Prompt,
    Start,
    cancel_topic,
    encode_prompt,
    prompt_topic,
)
from localcore.testing import RunningLocalcore
from tests.support.streamkit import User, connected_user, rule_event, running_stack, runtime

PROMPTS_PER_DAY = 3


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    environment = {
        "LLM_PROVIDER": "scripted",
        "SCRIPTED_TEXT": "one two three four five six",
        "SCRIPTED_STALL_AFTER": "2",  # a long answer: silent after two tokens until cancelled
        "SCRIPTED_STALL_MS": "30000",
        "CANCEL_POLL_MS": "0",
        "MAX_STREAMS_PER_IDENTITY": "1",
        "PROMPTS_PER_MINUTE": "0",
        "PROMPTS_PER_DAY": str(PROMPTS_PER_DAY),
    }
    with running_stack(environment) as running:
        yield running


def _publish(user: User, max_tokens: int | None = None) -> str:
    """Publish a prompt on the user's prompt topic (QoS 1); `max_tokens=1` makes the answer end at once."""
    rid = str(uuid.uuid4())
    prompt = Prompt(rid=rid, text="hello", params=Params(max_tokens=max_tokens))
    user.mqtt.publish(prompt_topic(user.identity), encode_prompt(prompt), qos=1)
    return rid


def _terminal(user: User, rid: str) -> Event:
    """Wait for the `end` or `error` of `rid` and return it."""
    events = user.recorder.wait_for(
        lambda seen: any(e.rid == rid and isinstance(e, End | Error) for e in seen)
    )
    return next(e for e in events if e.rid == rid and isinstance(e, End | Error))


def test_second_stream_of_an_identity_is_refused_while_another_user_streams(stack: RunningLocalcore) -> None:
    """MAX_STREAMS_PER_IDENTITY=1: while alice's first answer streams, her second prompt gets one `error`
    `too_many_streams` (seq 0, with retry_after_ms); bob, streaming at the same time, gets his whole answer."""
    with connected_user(stack) as alice, connected_user(stack) as bob:
        first = _publish(alice)
        alice.recorder.wait_for(lambda seen: any(e.rid == first and isinstance(e, Start) for e in seen))
        second = _publish(alice)
        theirs = _publish(bob, max_tokens=1)
        refused = _terminal(alice, second)
        answered = _terminal(bob, theirs)
        alice.mqtt.publish(cancel_topic(alice.identity), json.dumps({"rid": first}), qos=1)
        ended = _terminal(alice, first)
    assert isinstance(refused, Error) and refused.code == E_TOO_MANY_STREAMS and refused.seq == 0
    assert refused.retry_after_ms is not None and refused.retry_after_ms > 0
    assert [e for e in alice.recorder.events() if e.rid == second] == [refused]
    assert isinstance(answered, End) and answered.stop == "max_tokens"
    assert isinstance(ended, End) and ended.stop == "cancelled"


def test_daily_prompts_are_counted_per_identity(stack: RunningLocalcore) -> None:
    """PROMPTS_PER_DAY=3: carol's fourth prompt of the day is refused with `rate_limited` and the time to the
    next UTC day in retry_after_ms; dave's prompt is still answered."""
    with connected_user(stack) as carol, connected_user(stack) as dave:
        for _ in range(PROMPTS_PER_DAY):
            assert isinstance(_terminal(carol, _publish(carol, max_tokens=1)), End)
        refused = _terminal(carol, _publish(carol, max_tokens=1))
        answered = _terminal(dave, _publish(dave, max_tokens=1))
    assert isinstance(refused, Error) and refused.code == E_RATE_LIMITED
    assert refused.retry_after_ms is not None and 0 < refused.retry_after_ms <= 86_400_000
    assert isinstance(answered, End)


def test_a_prompt_that_waited_too_long_is_not_answered_late(stack: RunningLocalcore) -> None:
    """An event whose received_at_ms (the rule's timestamp()) is older than PROMPT_MAX_AGE_MS (30 s, the
    client's idle timeout) - a retried or long-throttled async invoke - ends with `prompt_expired` instead of
    streaming into a conversation nobody follows."""
    with connected_user(stack) as erin:
        rid = str(uuid.uuid4())
        event = rule_event(erin.identity, encode_prompt(Prompt(rid=rid, text="late")))
        event["received_at_ms"] = int(time.time() * 1000) - 60_000
        stack.thread.run(runtime(stack).invoke("prompt", event))
        expired = _terminal(erin, rid)
    assert isinstance(expired, Error) and expired.code == E_PROMPT_EXPIRED and expired.retry_after_ms is None
