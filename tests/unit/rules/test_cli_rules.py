"""`iotstream rules test|list|validate`: the real engine with recording actions, no broker.

AWS pages: iot-rules.html (FROM/WHERE), lambda-rule-action.html (event = SELECT output), republish-rule-action.html
(templates, headers), rule-error-handling.html (errorAction payload), iot-basic-ingest.html.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from clients.cli import main

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "rules_stack"
RULES = str(FIXTURE / "iot_rules")


def _payload(tmp_path: Path, document: object) -> str:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(document))
    return str(path)


def _payload_lines(out: str) -> list[str]:
    return [line.strip().removeprefix("payload: ") for line in out.splitlines() if "payload: " in line]


def test_lambda_action_shows_the_function_and_exact_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The project's prompt rule: the event is the SELECT output (payload base64, identity from topic(2))."""
    payload = _payload(tmp_path, {"v": 1, "rid": "r1", "text": "hi"})
    code = main(
        ["rules", "test", "--rule", "iotstream_prompt", "--topic", "chat/abc/prompt", "--payload", payload]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "action 1: lambda -> function prompt (arn:aws:lambda:us-east-1:000000000000:function:prompt" in out
    (event,) = _payload_lines(out)
    expected = base64.b64encode(json.dumps({"v": 1, "rid": "r1", "text": "hi"}).encode()).decode()
    assert json.loads(event) == {"payload_base64": expected, "identity_id": "abc"}


def test_where_not_satisfied_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """iot-rules.html: the actions run only when WHERE is true; `reading.value > 10` with 3 prints
    "WHERE not satisfied", exit 1."""
    payload = _payload(tmp_path, {"reading": {"value": 3}})
    code = main(["rules", "test", "--rules-dir", RULES, "--topic", "where/in", "--payload", payload])
    out = capsys.readouterr().out
    assert code == 1
    assert "rule where_gate" in out
    assert "WHERE not satisfied: no action runs" in out


def test_republish_shows_rendered_topic_qos_headers_and_payload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Templates in the topic and MQTT 5 headers are rendered against the message."""
    payload = _payload(tmp_path, {"status": "ok", "extra": 1})
    code = main(["rules", "test", "--rules-dir", RULES, "--topic", "devices/d9/status", "--payload", payload])
    out = capsys.readouterr().out
    assert code == 0
    assert "action 1: republish -> topic alerts/d9/status (qos 1, MQTT 5 headers" in out
    assert '"userProperties": [["device", "d9"], ["source", "rules"]]' in out
    assert '"responseTopic": "devices/d9/commands"' in out
    assert _payload_lines(out) == ['{"status":"ok","device":"d9"}']


def test_missing_function_runs_the_error_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --functions, an unknown function fails the Lambda action; the errorAction gets AWS's fields."""
    payload = _payload(tmp_path, {"a": 1})
    args = ["--rules-dir", RULES, "--topic", "devices/d9/broken", "--payload", payload, "--client-id", "c1"]
    code = main(["rules", "test", *args, "--functions", str(FIXTURE / "functions.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert "action 1: lambda -> arn:aws:lambda:us-east-1:000000000000:function:does_not_exist FAILED" in out
    assert "action 2: republish -> topic broken/ok (qos 0)" in out
    assert "errorAction: republish -> topic errors/d9 (qos 1)" in out
    error = json.loads(_payload_lines(out)[-1])
    assert error["ruleName"] == "broken_lambda"
    assert error["clientId"] == "c1"
    assert error["topic"] == "devices/d9/broken"
    assert [f["failedAction"] for f in error["failures"]] == ["LambdaAction"]


def test_basic_ingest_topic_and_default_client_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`$aws/rules/ingest/x/y` goes to rule `ingest` with topic() = x/y; no --client-id means clientid() = n/a."""
    payload = _payload(tmp_path, {"a": 1})
    code = main(
        ["rules", "test", "--rules-dir", RULES, "--topic", "$aws/rules/ingest/x/y", "--payload", payload]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "topic seen by the SQL: x/y" in out
    assert _payload_lines(out) == ['{"a":1,"t":"x/y","first":"x","client":"n/a"}']


def test_mqtt5_properties_reach_the_sql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """get_mqtt_property / get_user_properties see --mqtt5-property values (unknown keys are user properties)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "props.json").write_text(
        json.dumps(
            {
                "ruleName": "props",
                "sql": "SELECT get_mqtt_property('content_type') AS ct, get_user_properties('tenant') AS tenant"
                " FROM 'p/in'",
                "awsIotSqlVersion": "2016-03-23",
                "actions": [{"republish": {"topic": "p/out"}}],
            }
        )
    )
    payload = _payload(tmp_path, {})
    args = ["--rules-dir", str(rules), "--topic", "p/in", "--payload", payload]
    props = ["--mqtt5-property", "contentType=text/plain", "--mqtt5-property", "tenant=acme"]
    assert main(["rules", "test", *args, *props]) == 0
    assert _payload_lines(capsys.readouterr().out) == ['{"ct":"text/plain","tenant":["acme"]}']


def test_from_not_matching_and_unknown_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A topic no FROM matches runs nothing (exit 1); an unknown --rule is bad input (exit 2)."""
    payload = _payload(tmp_path, {})
    assert main(["rules", "test", "--topic", "nobody/listens", "--payload", payload]) == 1
    assert "no action runs" in capsys.readouterr().out
    assert main(["rules", "test", "--rule", "nope", "--topic", "a", "--payload", payload]) == 2
    assert "no rule named 'nope'" in capsys.readouterr().err


def test_list_shows_state_from_and_actions(capsys: pytest.CaptureFixture[str]) -> None:
    """`rules list` over a folder: name, enabled/disabled, FROM topic filter, actions and errorAction."""
    assert main(["rules", "list", "--rules-dir", RULES]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["a_disabled"].split()[1:3] == ["disabled", "toggle/in"]
    assert lines["broken_lambda"].endswith(
        "lambda:does_not_exist, republish:broken/ok; errorAction republish:errors/${topic(2)}"
    )


def test_validate_reports_each_bad_file_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CreateTopicRule's checks offline: rule name pattern, SQL parse errors with line:column; exit 2."""
    (tmp_path / "bad_sql.json").write_text(
        '{"ruleName": "bad_sql", "sql": "SELECT * FROM a/b", "actions": []}'
    )
    (tmp_path / "bad_name.json").write_text('{"ruleName": "bad-name", "sql": "SELECT 1", "actions": []}')
    (tmp_path / "good.json").write_text('{"ruleName": "good", "sql": "SELECT * FROM \'a/b\'", "actions": []}')
    assert main(["rules", "validate", "--rules-dir", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "sql: SqlParseException: Expected a topic filter in quotes after FROM, found 'a' at 1:15" in out
    assert "bad_name.json: ruleName: must match" in out
    assert "1 valid, 2 invalid" in out
    assert main(["rules", "validate", str(tmp_path / "good.json")]) == 0
    assert main(["rules", "validate", "--rules-dir", RULES]) == 0
