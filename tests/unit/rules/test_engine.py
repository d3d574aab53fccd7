"""RulesEngine and actions with in-memory recorders for Lambda and the broker.

AWS pages: iot-rules.html, lambda-rule-action.html, republish-rule-action.html, rule-error-handling.html,
iot-basic-ingest.html.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from localcore.broker.message import Message, Publisher
from localcore.broker.topics import split_basic_ingest
from localcore.errors import LocalcoreError
from localcore.iot.topic_rules import RuleStore
from localcore.rules.engine import RuleRun, RulesEngine

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


class Invoker:
    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.events: list[tuple[str, Any]] = []

    async def invoke_async(self, function_name: str, event: Any, source: str = "") -> str:
        if function_name not in self.known:
            raise LocalcoreError(f"Function not found: {ARN}{function_name}")
        self.events.append((function_name, event))
        return "request-id"


class Broker:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def publish(self, message: Message) -> None:
        self.messages.append(message)


def _engine(*rules: tuple[str, dict[str, Any]]) -> tuple[RulesEngine, Invoker, Broker]:
    store: RuleStore = RuleStore()
    for name, payload in rules:
        store.create(name, {"awsIotSqlVersion": "2016-03-23", **payload})
    invoker, broker = Invoker({"ok"}), Broker()
    return RulesEngine(store, invoker, broker), invoker, broker


def _process(engine: RulesEngine, message: Message) -> list[RuleRun]:
    return asyncio.run(engine.process(message))


def test_split_basic_ingest() -> None:
    """iot-basic-ingest.html: `$aws/rules/<rule>/<topic>`; anything else is not Basic Ingest."""
    assert split_basic_ingest("$aws/rules/r1/a/b") == ("r1", "a/b")
    assert split_basic_ingest("$aws/events/presence/connected/c") is None
    assert split_basic_ingest("a/b") is None
    assert split_basic_ingest("$aws/rules/r1") is None  # the broker delivers this one like any topic


def test_two_failed_actions_give_one_error_message() -> None:
    """rule-error-handling.html: one errorAction message per rule and message, listing every failure."""
    engine, _, broker = _engine(
        (
            "two_fail",
            {
                "sql": "SELECT * FROM 'a/+'",
                "actions": [
                    {"lambda": {"functionArn": ARN + "missing1"}},
                    {"lambda": {"functionArn": ARN + "missing2"}},
                ],
                "errorAction": {"republish": {"topic": "errors/${topic(2)}"}},
            },
        )
    )
    message = Message("a/x", b'{"k":1}', publisher=Publisher("dev-1", trace_id="trace-1"))
    (run,) = _process(engine, message)
    assert run.error_action_ran and len(run.failures) == 2
    (error,) = broker.messages
    assert error.topic == "errors/x"
    body = json.loads(error.payload)
    assert body["cloudwatchTraceId"] == "trace-1"
    assert body["clientId"] == "dev-1"
    assert base64.b64decode(body["base64OriginalPayload"]) == b'{"k":1}'
    assert [f["failedResource"] for f in body["failures"]] == [ARN + "missing1", ARN + "missing2"]


def test_binary_output_is_refused_by_the_lambda_action_but_passes_through_republish() -> None:
    """binary-payloads.html: Lambda needs JSON (encode(*,'base64') otherwise); republish passes bytes through."""
    engine, invoker, broker = _engine(
        (
            "binary",
            {
                "sql": "SELECT * FROM 'bin/in'",
                "actions": [{"lambda": {"functionArn": ARN + "ok"}}, {"republish": {"topic": "bin/out"}}],
            },
        )
    )
    (run,) = _process(engine, Message("bin/in", b"\x00\xff raw"))
    assert invoker.events == []
    assert "binary" in run.failures[0].message
    assert broker.messages[0].payload == b"\x00\xff raw"


def test_republish_to_a_reserved_topic_uses_double_dollar_and_refuses_wildcards() -> None:
    """republish-rule-action.html: `$$aws/...` publishes to `$aws/...`; a rendered topic with a wildcard fails."""
    engine, _, broker = _engine(
        (
            "reserved",
            {"sql": "SELECT * FROM 'r/in'", "actions": [{"republish": {"topic": "$$aws/things/t/x"}}]},
        ),
        ("wild", {"sql": "SELECT * FROM 'r/in'", "actions": [{"republish": {"topic": "out/${w}"}}]}),
    )
    runs = _process(engine, Message("r/in", b'{"w": "#"}'))
    assert [m.topic for m in broker.messages] == ["$aws/things/t/x"]
    assert {run.rule: [f.message for f in run.failures] for run in runs}["wild"] == [
        "the republish topic is empty or has wildcards"
    ]


def test_lambda_event_is_the_select_output_and_arn_templates_render() -> None:
    """lambda-rule-action.html: the event is the SELECT output; functionArn may use templates."""
    engine, invoker, _ = _engine(
        (
            "templ",
            {
                "sql": "SELECT v, topic(2) AS d FROM 'l/+'",
                "actions": [{"lambda": {"functionArn": ARN + "${fn}"}}],
            },
        )
    )
    _process(engine, Message("l/d1", b'{"v": 3, "fn": "ok", "dropped": true}'))
    assert invoker.events == [("ok", {"v": 3, "d": "d1"})]


@pytest.mark.parametrize("payload", [b'{"other": 1}', b"not json", b'{"n": "abc"}'])
def test_where_not_true_runs_nothing(payload: bytes) -> None:
    """iot-sql-where.html: WHERE false or Undefined (missing field, non-JSON payload, bad comparison)."""
    engine, _, broker = _engine(
        ("gate", {"sql": "SELECT * FROM 'w' WHERE n > 1", "actions": [{"republish": {"topic": "o"}}]}),
    )
    (run,) = _process(engine, Message("w", payload))
    assert not run.matched and run.actions == [] and broker.messages == []
