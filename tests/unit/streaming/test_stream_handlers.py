"""The thin Lambda handlers, configured only by environment variables as in AWS: boto3 picks the
DynamoDB endpoint from AWS_ENDPOINT_URL_DYNAMODB (AWS SDKs "service-specific endpoints")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from cancel import handler as cancel_handler
from prompt import handler as prompt_handler
from streaming.assembler import StreamAssembler
from streaming.state import StateStore
from streaming.wire import End, response_topic

if TYPE_CHECKING:
    from tests.unit.streaming.conftest import IotDataSink

IDENTITY = "us-east-1:3333-carol"


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object the handlers and Powertools read."""

    remaining_ms: int = 120_000
    function_name: str = "prompt"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:prompt"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch, moto_url: str, iot_sink: IotDataSink, store: StateStore
) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "IOT_DATA_ENDPOINT": iot_sink.url,
        "STATE_TABLE": store.table,
        "LLM_PROVIDER": "scripted",
        "SCRIPTED_TEXT": "Streamed through the handler.",
        "PUBLISH_MAX_PER_SECOND": "0",
    }.items():
        monkeypatch.setenv(key, value)
    prompt_handler.service.cache_clear()
    cancel_handler.store.cache_clear()
    yield
    prompt_handler.service.cache_clear()
    cancel_handler.store.cache_clear()


@pytest.mark.usefixtures("lambda_env")
def test_prompt_handler_streams_from_the_rule_event(iot_sink: IotDataSink) -> None:
    """The rule's event (prompt JSON + identity_id from topic(2)) yields a full stream; a retry yields none."""
    rid = str(uuid.uuid4())
    event = {"v": 1, "rid": rid, "text": "hello", "identity_id": IDENTITY}
    result = prompt_handler.handler(event, LambdaContext())
    assert result["status"] == "streamed" and result["outcome"] == "end_turn"
    assembler = StreamAssembler(rid=rid)
    for message in iot_sink.on(response_topic(IDENTITY, rid)):
        assembler.feed_payload(message.payload, 0.0)
    assert assembler.text == "Streamed through the handler." and isinstance(assembler.terminal, End)
    assert prompt_handler.handler(event, LambdaContext())["status"] == "duplicate"


@pytest.mark.usefixtures("lambda_env")
def test_cancel_handler_flags_the_request(store: StateStore) -> None:
    """The cancel rule's event `{"rid", "identity_id"}` writes the flag the stream polls."""
    rid = str(uuid.uuid4())
    assert cancel_handler.handler(
        {"rid": rid, "identity_id": IDENTITY}, LambdaContext(function_name="cancel")
    )
    assert store.is_cancelled(IDENTITY, rid) and not store.is_cancelled("someone-else", rid)
    assert cancel_handler.handler({"identity_id": IDENTITY}, LambdaContext()) == {"cancelled": False}
