"""`iotstream status`, `iotstream logs [-f]` and `iotstream env` against a running greenhouse stack."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.local_app import local_config
from localcore.broker.message import Message
from localcore.broker.testing import MqttTestClient
from localcore.functions import FunctionSettings
from localcore.iam.private_files import write_private_json
from localcore.testing import RunningLocalcore
from tests.support.cli_process import ROOT, Running, iotstream

LAMBDA_FIXTURES = ROOT / "tests" / "fixtures" / "lambdas"


@pytest.fixture(scope="module")
def traffic(stack: RunningLocalcore) -> Iterator[MqttTestClient]:
    """A connected greenhouse with a subscription, a hot reading through both rules and the function, and a
    publish its policy refuses."""
    device = MqttTestClient(stack.mqtt_port, "greenhouse-20", username="greenhouse-20").connect()
    device.subscribe("greenhouse/greenhouse-20/status", qos=1)
    device.publish("greenhouse/greenhouse-20/readings", b'{"temperature": 44, "humidity": 50}', qos=1)
    device.expect(1, timeout=30)  # the function's status: the rules ran and the function was invoked
    device.publish("greenhouse/greenhouse-21/readings", b"{}", qos=1)  # refused: PUBACK 0x87
    stack.wait_lambdas_idle()
    yield device
    device.disconnect()


def test_status_shows_connections_rules_functions_and_refusals(
    traffic: MqttTestClient, ready_file: Path
) -> None:
    """Connections with their identity, protocol and subscriptions; each rule's match and failure counts;
    each function's invocations and errors; the last refusals with the policy's reason."""
    result = iotstream("status", "--json", "--ready-file", str(ready_file))
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)["status"]
    (device,) = [c for c in status["connections"] if c["client_id"] == "greenhouse-20"]
    assert device == {
        "client_id": "greenhouse-20",
        "principal": "greenhouse-20",
        "protocol": "MQTT 5",
        "transport": "tcp",
        "source_ip": "127.0.0.1",
        "subscriptions": ["greenhouse/greenhouse-20/status (QoS 1)"],
    }
    rules = {rule["name"]: rule for rule in status["rules"]}
    assert rules["heat_alert"]["matched"] >= 1 and rules["heat_alert"]["failures"] == 0
    assert rules["readings_to_function"]["actions"] >= 1
    (readings,) = status["functions"]
    assert readings["name"] == "readings" and readings["invocations"] >= 1 and readings["errors"] == 0
    refused = [d for d in status["denials"] if d.get("resource") == "greenhouse/greenhouse-21/readings"]
    assert refused and refused[-1]["action"] == "iot:Publish" and refused[-1]["client_id"] == "greenhouse-20"

    text = iotstream("status", "--ready-file", str(ready_file)).stdout
    assert "greenhouse-20" in text and "MQTT 5/tcp" in text and "heat_alert" in text and "readings" in text


def test_logs_shows_each_kind_of_event_line(traffic: MqttTestClient, ready_file: Path) -> None:
    """CONNECT, SUBSCRIBE, PUBLISH, RULE, ACTION, INVOKE, FUNCTION_LOG and DENIED lines, in order of events."""
    result = iotstream("logs", "-n", "2000", "--json", "--ready-file", str(ready_file))
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    mine = [e for e in events if "greenhouse-20" in json.dumps(e) or e.get("function") == "readings"]
    kinds = [e["kind"] for e in mine]
    for kind in (
        "CONNECT",
        "SUBSCRIBE",
        "PUBLISH",
        "RULE",
        "ACTION",
        "INVOKE",
        "FUNCTION_LOG",
        "REPORT",
        "DENIED",
    ):
        assert kind in kinds, kind
    assert kinds.index("CONNECT") < kinds.index("SUBSCRIBE") < kinds.index("PUBLISH") < kinds.index("RULE")
    (log_line,) = [e for e in mine if e["kind"] == "FUNCTION_LOG" and "greenhouse-20" in e["line"]]
    assert log_line["line"] == "greenhouse greenhouse-20: too hot"
    text = iotstream("logs", "-n", "2000", "--kind", "DENIED", "--ready-file", str(ready_file)).stdout
    assert (
        "DENIED" in text and "resource=greenhouse/greenhouse-21/readings" in text and "PUBLISH " not in text
    )


def test_env_exports_point_boto3_at_the_stack(stack: RunningLocalcore, ready_file: Path) -> None:
    """`eval "$(iotstream env)"`: boto3 in that shell reaches localcore's IoT API with the admin key, and
    iotstream's own commands find the stack through IOTSTREAM_READY_FILE."""
    program = "import boto3; print(','.join(r['ruleName'] for r in boto3.client('iot').list_topic_rules()['rules']))"
    script = f'eval "$({sys.executable} -m clients.cli env --ready-file {ready_file})" && {sys.executable} -c "{program}"'
    script += f" && {sys.executable} -m clients.cli status --json > /dev/null"
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heat_alert,readings_to_function"


def test_logs_follow_streams_function_lines_while_the_function_runs(tmp_path: Path) -> None:
    """`iotstream logs -f` prints a function's output line as the handler prints it, before the invocation
    ends (the handler then waits at a gate the test holds), then its error (at WARNING in localcore's log)."""
    manifest = tmp_path / "functions.json"
    manifest.write_text(
        json.dumps({"narrator": {"handler": "handlers.gate.narrate_and_hold", "timeoutSeconds": 30}})
    )
    functions = FunctionSettings(
        code_root=LAMBDA_FIXTURES, manifest=manifest, retry_delays_seconds=(0.05, 0.05)
    )
    config = local_config(functions=functions, state_dir=tmp_path / "state")
    with RunningLocalcore(config) as core, socket.create_server(("127.0.0.1", 0)) as gate:
        ready = tmp_path / "ready.json"
        write_private_json(ready, core.endpoints)
        core.publish(Message("marker/start", b"go"))
        kinds = "--kind", "PUBLISH", "--kind", "FUNCTION_LOG", "--kind", "FUNCTION_ERROR"
        with Running("logs", "-f", *kinds, "--ready-file", str(ready)) as logs:
            logs.line("topic=marker/start")  # the backlog is read after the follower registered: now live
            event = {"port": gate.getsockname()[1], "name": "n1"}
            core.thread.run(core.core.runtime.invoke_async("narrator", event))  # type: ignore[union-attr]
            gate.settimeout(30)
            connection, _ = gate.accept()
            with connection:
                assert connection.makefile().readline().strip() == "n1"  # the handler waits for our reply
                assert logs.line("FUNCTION_LOG").endswith("| n1: waiting at the gate")
                connection.sendall(b"open\n")
            assert logs.line("FUNCTION_LOG").endswith("| n1: through the gate")
            assert "RuntimeError: n1 fails after the gate (open)" in logs.line("FUNCTION_ERROR")
