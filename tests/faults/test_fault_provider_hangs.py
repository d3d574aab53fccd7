"""Fault: the model hangs (a provider that stops sending, before the first token or mid-answer).

The prompt service ends a stream whose model is silent for `PROVIDER_IDLE_TIMEOUT_MS` with `error`
`provider_error` (docs/protocol.md, "Error codes"), before a client's 30 s idle timeout would give up without a
reason, and long before the Lambda's own timeout (300 s for the prompt function, lambdas/iotstream_lambdas/functions.json).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from clients import Client, ServiceError
from clients.targets import Target
from iotstream_lambdas.streaming.llm.scripted import split_tokens
from iotstream_lambdas.streaming.wire import E_PROVIDER
from localcore.testing import RunningLocalcore
from tests.support.faultkit import SCRIPT, new_user, running, runtime

IDLE_MS = 1500


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLocalcore, Target]]:
    environment = {
        "SCRIPTED_STALL_AFTER": "3",
        "SCRIPTED_STALL_MS": "600000",
        "PROVIDER_IDLE_TIMEOUT_MS": str(IDLE_MS),
        "MAX_STREAMS_PER_IDENTITY": "1",
    }
    with running(tmp_path_factory.mktemp("hangs"), environment) as pair:
        yield pair


def test_a_silent_model_ends_the_answer_with_a_reason(stack: tuple[RunningLocalcore, Target]) -> None:
    """Three tokens, then silence: the user keeps those three and gets `provider_error` about
    PROVIDER_IDLE_TIMEOUT_MS after the last one. Nothing stays held: the invocation returns (the worker is
    warm again) and the identity's only stream slot is free for its next prompt."""
    core, target = stack
    with Client(new_user(target)) as chat:
        answer = chat.ask("hello")
        while answer.text != "".join(split_tokens(SCRIPT)[:3]):
            answer.next_event()
        silent_from = time.monotonic()
        with pytest.raises(ServiceError) as error:
            answer.wait()
        silent = time.monotonic() - silent_from
        assert error.value.code == E_PROVIDER and "stopped responding" in error.value.message
        assert IDLE_MS / 1000 - 0.2 <= silent <= IDLE_MS / 1000 + 3
        core.wait_lambdas_idle()
        assert runtime(core).busy_workers("prompt") == [] and runtime(core).warm_workers("prompt") >= 1
        following = chat.ask("and now?")  # admitted (the slot was given back): it streams its three tokens
        while following.text != "".join(split_tokens(SCRIPT)[:3]):
            assert following.next_event() is not None
