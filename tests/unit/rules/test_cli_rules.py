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
    """The project's prompt rule: the event is the SELECT output (payload base64, identity from topic(2),
    the rules engine's `timestamp()` in epoch ms)."""
    payload = _payload(tmp_path, {"v": 1, "rid": "r1", "text": "hi"})
    code = main(
        ["rules", "test", "--rule", "iotstream_prompt", "--topic", "chat/abc/prompt", "--payload", payload]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "action 1: lambda -> function prompt (arn:aws:lambda:us-east-1:000000000000:function:prompt" in out
    (event,) = _payload_lines(out)
    expected = base64.b64encode(json.dumps({"v": 1, "rid": "r1", "text": "hi"}).encode()).decode()
    decoded = json.loads(event)
    assert isinstance(decoded.pop("received_at_ms"), int)
    assert decoded == {"payload_base64": expected, "identity_id": "abc"}


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


def test_project_prompt_rule_sends_its_errors_to_cloudwatch_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The project's prompt rule: when the invoke fails, the errorAction (cloudwatch-logs-rule-action.html,
    batchMode false) writes AWS's error message as one log event of /iotstream/rule-errors."""
    functions = tmp_path / "functions.json"
    functions.write_text(json.dumps({"cancel": {}}))
    payload = _payload(tmp_path, {"v": 1})
    args = ["--rule", "iotstream_prompt", "--topic", "chat/abc/prompt", "--payload", payload]
    assert main(["rules", "test", *args, "--functions", str(functions)]) == 0
    out = capsys.readouterr().out
    assert "errorAction: cloudwatchLogs -> log group /iotstream/rule-errors (one log event)" in out
    error = json.loads(_payload_lines(out)[-1])
    assert (error["ruleName"], error["topic"]) == ("iotstream_prompt", "chat/abc/prompt")


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


def test_deeply_nested_sql_is_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rule whose SQL nests 90 parentheses is refused like any SqlParseException (CreateTopicRule,
    iot-sql-reference.html): `rules test` prints one line and exits 2, `rules validate` reports INVALID."""
    rules = tmp_path / "rules"
    rules.mkdir()
    sql = "SELECT " + "(" * 90 + "1" + ")" * 90 + " AS n FROM 'deep/in'"
    (rules / "deep.json").write_text(json.dumps({"ruleName": "deep", "sql": sql, "actions": []}))
    payload = _payload(tmp_path, {})
    code = main(["rules", "test", "--rules-dir", str(rules), "--topic", "deep/in", "--payload", payload])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1 and "nested more than 32 levels deep" in captured.err
    assert main(["rules", "validate", "--rules-dir", str(rules)]) == 2
    assert "INVALID" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"ruleName": "x", "sql": "SELECT 1"', "not valid JSON"),
        ('{"ruleName": "caf\u00e9"}'.encode("latin-1"), "not UTF-8"),
    ],
    ids=["bad-json", "latin-1"],
)
def test_unreadable_rule_files_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, fragment: str
) -> None:
    """A rule file that is not UTF-8 JSON (CreateTopicRule takes a JSON TopicRulePayload) is reported with its
    path, in one line: `rules list` exits 2, `rules validate` prints INVALID with the path."""
    (tmp_path / "broken.json").write_bytes(content)
    assert main(["rules", "list", "--rules-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.json" in err and fragment in err
    assert main(["rules", "validate", "--rules-dir", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert f"INVALID {tmp_path / 'broken.json'}" in out and fragment in out


GREENHOUSE = Path(__file__).resolve().parents[3] / "examples" / "greenhouse"


def test_validate_checks_the_project_of_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run inside a project (here one named by [tool.iotstream]), `rules validate` checks that project's
    rules, not iotstream's own."""
    monkeypatch.chdir(GREENHOUSE / "tests")  # a folder below the project: found upwards, as git finds a repo
    assert main(["rules", "validate"]) == 0
    out = capsys.readouterr().out
    assert "heat_alert" in out and "readings_to_function" in out and "iotstream_prompt" not in out


def test_outside_any_project_the_rules_commands_say_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No pyproject.toml with [tool.iotstream] and no iot_rules/ here or above: an error with the fix, exit 2
    (it used to check iotstream's own rules and report green)."""
    monkeypatch.chdir(tmp_path)
    for command in (["validate"], ["list"], ["test", "--topic", "a", "--payload", "-"]):
        assert main(["rules", *command]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no project in" in err[0] and "--project DIR" in err[0]


def test_rules_test_knows_the_project_functions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --project, a Lambda action is checked against the project's functions manifest: `readings` exists
    (lambda-rule-action.html: the event is the SELECT output)."""
    payload = _payload(tmp_path, {"temperature": 20, "humidity": 40})
    args = ["--project", str(GREENHOUSE), "--topic", "greenhouse/g1/readings", "--payload", payload]
    assert main(["rules", "test", *args]) == 0
    out = capsys.readouterr().out
    assert "lambda -> function readings" in out
    assert '{"temperature":20,"humidity":40,"greenhouse":"g1"}' in out
