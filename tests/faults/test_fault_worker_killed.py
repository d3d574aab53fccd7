"""Fault: the Lambda worker streaming an answer is killed mid-stream (the sandbox dies: out of memory, a crash).

AWS Lambda reports a runtime exit as a function error and retries the async event, with the same event
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html); localcore's runtime does
the same (retries after 0.05 s here instead of AWS's minute). The retry finds the dead attempt's lease
run out and ends the stream (docs/protocol.md, "Idempotency and interrupted streams").
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from clients import Client, ServiceError
from clients.targets import Target
from iotstream_lambdas.streaming.lease import LEASE_MIN_MS
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import E_INTERRUPTED
from localcore.testing import RunningLocalcore
from tests.support.faultkit import SCRIPT, new_user, running, runtime


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLocalcore, Target]]:
    with running(tmp_path_factory.mktemp("killed"), {"MAX_STREAMS_PER_IDENTITY": "1"}) as pair:
        yield pair


def test_the_user_gets_an_error_not_silence_and_nothing_stays_held(
    stack: tuple[RunningLocalcore, Target],
) -> None:
    """SIGKILL the busy worker after the first text. The user sees the text so far and then `error`
    `stream_interrupted`, within the lease (5 s) and the retry delay, long before the client's idle timeout.
    Nothing leaks: the identity's only stream slot is free again (MAX_STREAMS_PER_IDENTITY=1, so its next
    answer streams in full), the request record holds the outcome, the dead worker is gone and never reused."""
    core, target = stack
    session = new_user(target)
    with Client(session) as chat:
        answer = chat.ask("a long one")
        while not answer.text:
            answer.next_event()
        (pid,) = runtime(core).busy_workers("prompt")
        os.killpg(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        with pytest.raises(ServiceError) as error:
            answer.wait()
        waited = time.monotonic() - killed_at
        assert error.value.code == E_INTERRUPTED and "ask again" in error.value.message
        assert SCRIPT.startswith(answer.text) and answer.text
        assert waited < LEASE_MIN_MS / 1000 + 5, f"the error took {waited:.1f} s"

        again = chat.ask("once more").wait()
        assert again.text == SCRIPT and again.stop == "end_turn"
    core.wait_lambdas_idle()
    store = StateStore(core.client("dynamodb"), "iotstream-state")
    assert store.request_status(session.identity_id, answer.rid) == f"error:{E_INTERRUPTED}"
    assert pid not in runtime(core).busy_workers("prompt")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert runtime(core).stats("prompt").errors == 1  # the killed invocation; its retry ended the stream
