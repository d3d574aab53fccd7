"""`iotstream pub` / `iotstream sub` on the greenhouse project: local mode (username = identity, the project's
`device` policy), the admin login watching `#`, refusals in one line with exit status 5."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore
from tests.support.cli_process import Running, iotstream

NOT_AUTHORIZED, BAD_USER_OR_PASSWORD = 0x87, 0x86


def test_sub_prints_what_pub_publishes_and_the_rule_makes(ready_file: Path) -> None:
    """A greenhouse subscribes to its alerts, the admin publishes a reading for it (another connection as
    greenhouse-4 would take this one over: one connection per client id, mqtt.html): the heat_alert rule's
    republish (https://docs.aws.amazon.com/iot/latest/developerguide/republish-rule-action.html) arrives."""
    ready = ["--ready-file", str(ready_file)]
    with Running(
        "sub", "--as", "greenhouse-4", "greenhouse/greenhouse-4/alerts", "--count", "1", "--json", *ready
    ) as sub:
        sub.line("subscribed to greenhouse/greenhouse-4/alerts as greenhouse-4", "stderr")
        published = iotstream(
            "pub", "--admin", "greenhouse/greenhouse-4/readings", '{"temperature": 50}', *ready
        )
        assert published.returncode == 0, published.stderr
        alert = json.loads(sub.line("greenhouse/greenhouse-4/alerts"))
        assert json.loads(alert["payload"])["temperature"] == 50 and alert["qos"] == 1
        assert sub.wait() == 0


def test_a_refused_publish_is_one_line_and_status_5(ready_file: Path) -> None:
    """device.json lets a greenhouse publish only its own readings: PUBACK 0x87 (mqtt.html, reason codes)."""
    result = iotstream(
        "pub",
        "--as",
        "greenhouse-4",
        "greenhouse/greenhouse-9/readings",
        "{}",
        "--ready-file",
        str(ready_file),
    )
    assert result.returncode == 5
    assert result.stderr.strip() == (
        "iotstream pub: the broker refused PUBLISH greenhouse/greenhouse-9/readings: Not authorized (PUBACK 0x87)"
    )


def test_a_refused_subscription_is_one_line_and_status_5(ready_file: Path) -> None:
    result = iotstream("sub", "--as", "greenhouse-4", "greenhouse/+/alerts", "--ready-file", str(ready_file))
    assert result.returncode == 5
    assert "refused SUBSCRIBE greenhouse/+/alerts: Not authorized (SUBACK 0x87)" in result.stderr


def test_the_admin_login_watches_every_topic(stack: RunningLocalcore, ready_file: Path) -> None:
    """`sub --admin '#'` sees what any identity publishes (and a retained message published with --admin
    --retain reaches a later subscriber whose filter names its topic)."""
    ready = ["--ready-file", str(ready_file)]
    with Running("sub", "--admin", "#", "--count", "1", *ready) as watcher:
        watcher.line("subscribed to # as localcore-admin-", "stderr")
        device = MqttTestClient(stack.mqtt_port, "greenhouse-5", username="greenhouse-5").connect()
        device.publish("greenhouse/greenhouse-5/readings", b'{"temperature": 20}', qos=1)
        device.disconnect()
        assert (
            watcher.line("greenhouse/greenhouse-5/readings")
            == 'greenhouse/greenhouse-5/readings {"temperature": 20}'
        )
    assert (
        iotstream(
            "pub", "--admin", "--retain", "greenhouse/greenhouse-5/config", '{"max": 30}', *ready
        ).returncode
        == 0
    )
    result = iotstream(
        "sub", "--as", "greenhouse-5", "greenhouse/greenhouse-5/config", "--count", "1", *ready
    )
    assert result.returncode == 0 and result.stdout == 'greenhouse/greenhouse-5/config {"max": 30}\n'


def _paho_connect(stack: RunningLocalcore, client_id: str, password: str) -> int:
    """CONNACK reason code of a plain-MQTT CONNECT with the admin key id as username."""
    connack: list[int] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.username_pw_set(stack.core.admin.access_key_id, password)
    client.on_connect = lambda c, u, f, reason, p: connack.append(int(reason.value))
    client.connect("127.0.0.1", stack.mqtt_port)
    while not connack:
        client.loop(timeout=1.0)
    client.disconnect()
    return connack[0]


def test_the_admin_login_takes_over_no_device(stack: RunningLocalcore) -> None:
    """The admin login may connect only as `localcore-admin*`: with a device's client id it is refused (AWS
    disconnects the older of two connections with one client id, mqtt.html), and a wrong password is refused
    as a bad user name or password, never taken for a local-mode identity."""
    device = MqttTestClient(stack.mqtt_port, "greenhouse-6", username="greenhouse-6").connect()
    try:
        secret = stack.core.admin.secret_access_key
        assert _paho_connect(stack, "greenhouse-6", secret) == NOT_AUTHORIZED
        assert device.subscribe("greenhouse/greenhouse-6/status") == [1]  # still connected: not taken over
        assert (
            _paho_connect(stack, f"localcore-admin-{secrets.token_hex(2)}", "wrong") == BAD_USER_OR_PASSWORD
        )
        assert _paho_connect(stack, f"localcore-admin-{secrets.token_hex(2)}", secret) == 0
    finally:
        device.disconnect()


def test_the_admin_login_reads_lifecycle_events(stack: RunningLocalcore, ready_file: Path) -> None:
    """`#` does not match `$` topics (MQTT 3.1.1 4.7.2); `$aws/events/#` gets AWS's lifecycle events
    (https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html), e.g. a device connecting."""
    ready = ["--ready-file", str(ready_file)]
    with Running("sub", "--admin", "#", "$aws/events/#", "--json", *ready) as watcher:
        watcher.line("subscribed to # $aws/events/# as localcore-admin-", "stderr")
        MqttTestClient(stack.mqtt_port, "greenhouse-30", username="greenhouse-30").connect().disconnect()
        event = json.loads(watcher.line("$aws/events/presence/connected/greenhouse-30"))
        assert json.loads(event["payload"])["eventType"] == "connected"
