"""`iotstream up --project DIR`: your rules, policies, functions and their environment, served end to end; a
missing or broken project file stops the start in one line naming it; `--persist` survives a restart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3

from localcore.broker.testing import MqttTestClient
from tests.support.cli_process import ROOT, iotstream
from tests.support.up_process import UpProcess

GREENHOUSE = ROOT / "examples" / "greenhouse"


def _admin_client(endpoints: dict[str, object], service: str) -> object:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=str(endpoints["http"]),
        region_name=str(endpoints["region"]),
        aws_access_key_id=str(endpoints["admin_access_key_id"]),
        aws_secret_access_key=str(endpoints["admin_secret_access_key"]),
    )


def test_up_serves_the_greenhouse_project_end_to_end(tmp_path: Path) -> None:
    """A greenhouse (paho, local mode: username = device id, the project's `device` policy) publishes a reading;
    the project's republish rule raises an alert and its Lambda rule action runs the project's function, which
    publishes the status through iot-data with its execution role (the manifest's iotPermissions)."""
    with UpProcess(tmp_path / "state", "--project", str(GREENHOUSE)) as up:
        printed = "".join(up.printed)
        assert f"project {GREENHOUSE}" in printed
        assert "heat_alert, readings_to_function" in printed and "readings" in printed
        with MqttTestClient(up.mqtt_port, "greenhouse-7", username="greenhouse-7") as device:
            device.connect()
            assert device.subscribe(
                [("greenhouse/greenhouse-7/alerts", 1), ("greenhouse/greenhouse-7/status", 1)]
            )
            device.publish(
                "greenhouse/greenhouse-7/readings", json.dumps({"temperature": 40, "humidity": 60}), qos=1
            )
            by_topic = {m.topic: json.loads(m.payload) for m in device.expect(2, timeout=30)}
        assert by_topic["greenhouse/greenhouse-7/alerts"]["greenhouse"] == "greenhouse-7"
        assert by_topic["greenhouse/greenhouse-7/status"]["status"] == "too hot"
        # iotstream's own state table and chat outputs stay out of another project's stack
        assert _admin_client(up.endpoints, "dynamodb").list_tables()["TableNames"] == []  # type: ignore[attr-defined]
        assert "dashboard_shards" not in up.endpoints
        assert not (tmp_path / "state" / "cdk-outputs.json").exists()


def test_persist_keeps_an_api_rule_and_a_retained_status_across_a_restart(tmp_path: Path) -> None:
    """`up --persist`: a rule made with CreateTopicRule and a retained message published through iot-data are
    there after Ctrl-C and a new `up` on the same state dir (docs/localcore.md, "Persistence")."""
    rule = {
        "sql": "SELECT * FROM 'greenhouse/+/readings'",
        "actions": [
            {"republish": {"topic": "audit/${topic(2)}", "roleArn": "arn:aws:iam::000000000000:role/r"}}
        ],
    }
    state = tmp_path / "state"
    with UpProcess(state, "--project", str(GREENHOUSE), "--persist") as up:
        _admin_client(up.endpoints, "iot").create_topic_rule(ruleName="audit", topicRulePayload=rule)  # type: ignore[attr-defined]
        _admin_client(up.endpoints, "iot-data").publish(  # type: ignore[attr-defined]
            topic="greenhouse/greenhouse-8/status", qos=1, retain=True, payload=b'{"status": "ok"}'
        )
    with UpProcess(state, "--project", str(GREENHOUSE), "--persist") as up:
        names = [r["ruleName"] for r in _admin_client(up.endpoints, "iot").list_topic_rules()["rules"]]  # type: ignore[attr-defined]
        assert names == ["audit", "heat_alert", "readings_to_function"]
        with MqttTestClient(up.mqtt_port, "greenhouse-8", username="greenhouse-8") as device:
            device.connect()
            device.subscribe("greenhouse/greenhouse-8/status", qos=1)
            (retained,) = device.expect(1)
        assert (retained.payload, retained.retain) == (b'{"status": "ok"}', True)


def _copy(tmp_path: Path) -> Path:
    project = tmp_path / "greenhouse"
    shutil.copytree(GREENHOUSE, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return project


def test_a_missing_folder_or_broken_file_stops_up_in_one_line_naming_it(tmp_path: Path) -> None:
    """Exit status 2 and one line on stderr that names the folder or file, before anything listens."""
    project = _copy(tmp_path)
    state = ["--state-dir", str(tmp_path / "state")]
    shutil.rmtree(project / "iot_rules")
    result = iotstream("up", "--project", str(project), *state)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"no rules folder {project / 'iot_rules'}" in result.stderr

    project = _copy(tmp_path / "2")
    broken = project / "iot_policies" / "device.json"
    broken.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}')
    result = iotstream("up", "--project", str(project), *state)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert str(broken) in result.stderr

    project = _copy(tmp_path / "3")
    manifest = project / "functions.json"
    manifest.write_text(manifest.read_text().replace("handlers.readings.handler", "handlers.missing.handler"))
    result = iotstream("up", "--project", str(project), *state)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"{manifest}: readings.handler: no module handlers/missing.py" in result.stderr

    result = iotstream("up", "--project", str(tmp_path / "nowhere"), *state)
    assert result.returncode == 2 and "project folder" in result.stderr and "does not exist" in result.stderr


def test_verbose_prints_event_lines_and_function_errors_are_warnings(tmp_path: Path) -> None:
    """`up --verbose` prints each event line as it happens (PUBLISH, RULE, INVOKE, FUNCTION_LOG, ...); at the
    default log level a function's error is one WARNING line naming the function on stderr, without --verbose."""
    project = _copy(tmp_path)
    handler = project / "handlers" / "readings.py"
    handler.write_text(
        handler.read_text().replace(
            "    status = {",
            "    if event['temperature'] < 0:\n        raise ValueError('sensor broken')\n    status = {",
        )
    )
    with UpProcess(tmp_path / "state", "--project", str(project), "--verbose") as up:
        with MqttTestClient(up.mqtt_port, "greenhouse-9", username="greenhouse-9") as device:
            device.connect()
            device.publish("greenhouse/greenhouse-9/readings", json.dumps({"temperature": -5}), qos=1)
        assert "topic=greenhouse/greenhouse-9/readings client_id=greenhouse-9" in up.read_until("PUBLISH")
        assert "rule=readings_to_function" in up.read_until("RULE            rule=readings_to_function")
        assert "ValueError: sensor broken" in up.read_until("FUNCTION_ERROR")
    warnings = [line for line in up.stderr.splitlines() if "WARNING localcore.lambda" in line]
    assert warnings and "function readings failed (RequestId" in warnings[0]
    assert "ValueError: sensor broken" in warnings[0]
