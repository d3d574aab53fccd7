"""Fault: the state table (DynamoDB) cannot be reached, before a prompt and in the middle of an answer.

Every stream needs its request record (docs/protocol.md, "Idempotency and interrupted streams"), so a prompt
that cannot be claimed is answered with `error` `internal_error` ("The service failed while answering; please
try again."), and a stream whose lease cannot be renewed ends with that error; iot-data still works, so the user
hears about it. The prompt function's DynamoDB client gives up within seconds
(`iotstream_lambdas.streaming.config.STATE_TABLE_CLIENT`), well before a client's idle timeout. Here the functions reach the table
through a proxy that refuses connections while the store is "down" (a network partition, as a client would see
an outage); iot-data and the broker are reached directly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from clients import Client, ServiceError
from clients.targets import Target
from iotstream_lambdas.streaming.wire import E_INTERNAL
from localcore.testing import RunningLocalcore
from tests.support.faultkit import new_user, running
from tests.support.tcp_proxy import CuttableProxy

LONG_SCRIPT = " ".join(f"word{i}" for i in range(90)) + "."  # 3 s at 30 tokens/s
GIVE_UP_S = 8.0
"""Three attempts with standard back-off (at most 1 + 2 s) and a heartbeat's second, with slack."""


@pytest.fixture(scope="module")
def partition() -> Iterator[CuttableProxy]:
    proxy = CuttableProxy(upstream_port=1)  # the stack's port is set once it listens
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, partition: CuttableProxy
) -> Iterator[tuple[RunningLocalcore, Target]]:
    environment = {
        "SCRIPTED_TEXT": LONG_SCRIPT,
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{partition.port}",
    }
    with running(tmp_path_factory.mktemp("store"), environment) as (core, target):
        partition.upstream = ("127.0.0.1", int(core.url.rsplit(":", 1)[1]))
        yield core, target


def down(partition: CuttableProxy) -> None:
    partition.hold()
    partition.cut()


def test_a_prompt_while_the_store_is_down_gets_an_error_then_works_again(
    stack: tuple[RunningLocalcore, Target], partition: CuttableProxy
) -> None:
    """Store down: the prompt is answered with `internal_error` within seconds, no model call. Store back: the
    same user's next prompt streams whole."""
    _, target = stack
    with Client(new_user(target)) as chat:
        down(partition)
        try:
            started = time.monotonic()
            with pytest.raises(ServiceError) as error:
                chat.ask("hello").wait()
            assert error.value.code == E_INTERNAL and "try again" in error.value.message
            assert time.monotonic() - started < GIVE_UP_S
        finally:
            partition.release()
        assert chat.ask("and now?").wait().text == LONG_SCRIPT


def test_an_answer_whose_store_goes_down_ends_with_an_error(
    stack: tuple[RunningLocalcore, Target], partition: CuttableProxy
) -> None:
    """Store down after the first text: the text keeps coming until the next heartbeat fails, then the answer
    ends with `internal_error` (seq order kept, no gap) within seconds; with the store back, the next answer
    streams whole (the interrupted one's stream slot stays taken until its lease ends, one of the identity's
    MAX_STREAMS_PER_IDENTITY=2)."""
    _, target = stack
    with Client(new_user(target)) as chat:
        answer = chat.ask("a long one")
        while not answer.text:
            answer.next_event()
        down(partition)
        try:
            started = time.monotonic()
            with pytest.raises(ServiceError) as error:
                answer.wait()
            assert error.value.code == E_INTERNAL
            assert time.monotonic() - started < GIVE_UP_S
            assert LONG_SCRIPT.startswith(answer.text)
        finally:
            partition.release()
        assert chat.ask("and now?").wait().text == LONG_SCRIPT
