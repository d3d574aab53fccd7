"""The thin Lambda handlers, configured only by environment variables as in AWS: boto3 picks the
DynamoDB endpoint from AWS_ENDPOINT_URL_DYNAMODB (AWS SDKs "service-specific endpoints")."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from iotstream_lambdas.cancel import handler as cancel_handler
from iotstream_lambdas.prompt import handler as prompt_handler
from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import End, response_topic

if TYPE_CHECKING:
    from tests.support.streaming import IotDataSink

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


def _emf_lines(output: str) -> list[dict[str, Any]]:
    """The embedded-metric-format documents Powertools printed (lines with an `_aws` key)."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [d for d in documents if "_aws" in d]


@pytest.mark.usefixtures("lambda_env")
def test_prompt_handler_emits_answer_metrics_as_emf(capsys: pytest.CaptureFixture[str]) -> None:
    """Powertools Metrics writes EMF to stdout (CloudWatch_Embedded_Metric_Format.html): TimeToFirstToken,
    TokensPerSecond, MessagesPerAnswer in the `iotstream` namespace with the function's `service` dimension;
    a refused prompt counts in PromptsRefused."""
    event = {"v": 1, "rid": str(uuid.uuid4()), "text": "hello", "identity_id": IDENTITY}
    prompt_handler.handler(event, LambdaContext())
    (document,) = _emf_lines(capsys.readouterr().out)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "iotstream"
    names = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert names == {
        "TimeToFirstToken": "Milliseconds",
        "TokensPerSecond": "Count/Second",
        "MessagesPerAnswer": "Count",
    }
    assert document["service"] == prompt_handler.SERVICE and ["service"] in directive["Dimensions"]
    manifest = json.loads((Path(prompt_handler.__file__).parents[1] / "functions.json").read_text())
    assert manifest["prompt"]["environment"]["POWERTOOLS_SERVICE_NAME"] == prompt_handler.SERVICE
    values = {name: document[name] for name in names}  # Powertools writes each value as a list of samples
    assert values["MessagesPerAnswer"][0] >= 2  # start (+ deltas) + end
    assert values["TimeToFirstToken"][0] >= 0
    prompt_handler.handler(
        {"v": 1, "rid": "not-a-uuid", "text": "x", "identity_id": IDENTITY}, LambdaContext()
    )
    (refused,) = _emf_lines(capsys.readouterr().out)
    assert refused["PromptsRefused"] == [1.0]
