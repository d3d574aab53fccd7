"""The Python client API (`clients`) end to end against localcore: Cognito sign-in, MQTT 5 over SigV4 WebSockets
(awscrt and paho), streamed answers, conversations, cancel, service errors and policy refusals.

AWS: MQTT over WebSockets with SigV4 (https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html),
the enhanced Cognito flow (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from clients import (
    AsyncClient,
    Client,
    DashboardFeed,
    PolicyDeniedError,
    PromptError,
    ServiceError,
    new_conversation_id,
    sign_in,
    sign_up,
)
from clients.accounts import LOCAL_PASSWORD
from clients.targets import Target
from iotstream_lambdas.streaming.wire import Delta, End, Start
from localcore.testing import RunningLocalcore
from tests.support.cli import FAST_SCRIPT, SLOW_SCRIPT, new_user

Stack = tuple[RunningLocalcore, Target]


@pytest.mark.parametrize("transport", ["mqtt5", "paho"])
def test_ask_streams_deltas_and_reports_stop_usage_metrics(fast: Stack, transport) -> None:
    """Both transports connect over SigV4 WebSockets as `{identityId}-chat-…` (the user policy allows
    `client/${cognito-identity.amazonaws.com:sub}-*`), subscribe `chat/{id}/response/+` before the prompt, and
    reassemble the answer by `seq` (AWS IoT does not order messages: mqtt.html, "Message ordering")."""
    _, target = fast
    session = new_user(target)
    with Client(session, transport=transport) as chat:
        assert chat.client_id.startswith(session.identity_id + "-chat-")
        answer = chat.ask("Tell me about MQTT", max_tokens=200)
        deltas = list(answer)
    assert "".join(deltas) == FAST_SCRIPT == answer.text
    events = answer.events_received
    assert isinstance(events[0], Start) and isinstance(events[-1], End)
    assert [event.seq for event in events] == list(range(len(events)))
    assert answer.stop == "end_turn" and answer.usage is not None and answer.usage.output_tokens > 0
    assert answer.metrics["messages"] == answer.messages == len(events)
    assert answer.ttft_s is not None and answer.ttft_s > 0
    assert answer.tokens_per_s is not None and answer.tokens_per_s > 0


def test_a_conversation_carries_earlier_turns(fast: Stack) -> None:
    """`conversation` makes the service send the earlier turns to the model (docs/protocol.md): the scripted model
    counts every message it is given as input tokens, so a second turn has more input than a fresh question."""
    _, target = fast
    with Client(new_user(target)) as chat:
        conversation = new_conversation_id()
        first = chat.ask("hello there", conversation).wait()
        second = chat.ask("hello there", conversation).wait()
        alone = chat.ask("hello there", new_conversation_id()).wait()
    assert first.usage is not None and second.usage is not None and alone.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens == alone.usage.input_tokens


def test_cancel_ends_the_answer_with_cancelled(slow: Stack) -> None:
    """A cancel published on `chat/{id}/cancel` stops the stream within about one chunk: `end` with stop
    `cancelled`, the text so far a prefix of the full answer (docs/protocol.md "Cancel")."""
    _, target = slow
    with Client(new_user(target)) as chat:
        answer = chat.ask("a long one")
        for event in answer.events():
            if isinstance(event, Start | Delta) and event.text:
                answer.cancel()
                break
        answer.wait()
    assert answer.stop == "cancelled"
    assert SLOW_SCRIPT.startswith(answer.text) and answer.text != SLOW_SCRIPT


def test_service_error_event_raises_with_its_code(fast: Stack) -> None:
    """An `error` event (here `text_too_long`: over the service's 16 KB prompt limit but under AWS IoT's 128 KB
    payload limit) ends the iteration with ServiceError carrying the protocol's code."""
    _, target = fast
    with Client(new_user(target)) as chat:
        answer = chat.ask("x" * 20_000)
        with pytest.raises(ServiceError) as raised:
            answer.wait()
    assert raised.value.code == "text_too_long" and raised.value.rid == answer.rid
    assert answer.error is not None and answer.stop is None


def test_prompt_over_128_kb_is_refused_before_publishing(fast: Stack) -> None:
    """AWS IoT rejects payloads over 128 KB (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits)
    and the broker would drop the connection, so the client refuses locally and stays usable."""
    _, target = fast
    with Client(new_user(target)) as chat:
        with pytest.raises(PromptError) as raised:
            chat.ask("x" * 140_000)
        assert raised.value.code == "payload_too_large"
        assert chat.ask("still there?").wait().stop == "end_turn"


def test_async_client_streams_and_cancels(slow: Stack) -> None:
    """The asyncio flavour reads the same stream with `async for`, and `await answer.cancel()` publishes the cancel."""
    _, target = slow
    session = new_user(target)

    async def scenario() -> tuple[list[str], str | None]:
        async with AsyncClient(session) as chat:
            answer = await chat.ask("a long one")
            seen: list[str] = []
            async for delta in answer:
                seen.append(delta)
                if len(seen) == 1:
                    await answer.cancel()
            return seen, answer.stop

    seen, stop = asyncio.run(scenario())
    assert stop == "cancelled" and SLOW_SCRIPT.startswith("".join(seen))


def test_normal_user_cannot_open_a_dashboard_feed(fast: Stack) -> None:
    """`iotstream-user` allows no subscription outside `chat/{id}/response/…`: SUBSCRIBE `dashboard/streams/0` gets
    SUBACK 0x87 Not authorized on MQTT 5 (mqtt.html, "MQTT 5 reason codes"), shown as PolicyDeniedError."""
    _, target = fast
    with pytest.raises(PolicyDeniedError) as raised:
        DashboardFeed(new_user(target)).connect()
    assert raised.value.reason_code == 0x87
    assert "dashboard" in str(raised.value) and "0x87" in str(raised.value)


@pytest.mark.parametrize("transport", ["mqtt5", "paho"])
def test_identity_without_an_iot_policy_is_refused_at_connect(fast: Stack, transport) -> None:
    """Cognito identities need an attached IoT policy as well as the role's
    (https://docs.aws.amazon.com/iot/latest/developerguide/cog-iot-policies.html); without one AWS answers an MQTT 5
    CONNECT with CONNACK 0x87 Not authorized (mqtt.html, "MQTT 5 reason codes"): PolicyDeniedError, nothing retried."""
    _, target = fast
    name = f"no-policy-{uuid.uuid4().hex[:8]}"
    sign_up(target.config, name, LOCAL_PASSWORD, f"{name}@example.com")
    fresh = sign_in(target.config, name, LOCAL_PASSWORD, attach=False)
    with pytest.raises(PolicyDeniedError) as raised:
        Client(fresh, transport=transport).connect()
    assert raised.value.reason_code == 0x87 and "CONNACK 0x87" in str(raised.value)
