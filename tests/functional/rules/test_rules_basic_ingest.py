"""Basic Ingest: `$aws/rules/<ruleName>/<topic>` goes to that one rule and to no subscriber.

AWS page: iot-basic-ingest.html (the prefix is removed before the rule sees the topic; the publisher still needs
iot:Publish on the `$aws/rules/...` topic).
"""

from __future__ import annotations

import json

from localcore.broker.message import Message
from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore

NOT_AUTHORIZED = 0x87


def _client(stack: RunningLocalcore, identity: str) -> MqttTestClient:
    return MqttTestClient(stack.mqtt_port, client_id=identity, username=identity).connect()


def test_basic_ingest_fires_the_rule_with_the_prefix_removed(stack: RunningLocalcore) -> None:
    """iot-basic-ingest.html: topic() is `x/y` for `$aws/rules/ingest/x/y`; no subscriber gets the original."""
    with _client(stack, "watcher-ingest") as watcher, _client(stack, "sensor-ingest") as device:
        assert watcher.subscribe([("ingested/+", 1), ("$aws/rules/ingest/x/y", 1)]) == [1, 1]
        assert device.publish("$aws/rules/ingest/x/y", json.dumps({"n": 1}), qos=1) == 0
        (message,) = watcher.expect(1)
        stack.wait_rules_idle()
    assert message.topic == "ingested/x"
    assert json.loads(message.payload) == {"n": 1, "t": "x/y", "first": "x", "client": "sensor-ingest"}
    assert len(watcher.received) == 1


def test_basic_ingest_needs_publish_permission_on_the_rules_topic(stack: RunningLocalcore) -> None:
    """iot-basic-ingest.html: authorization is checked on `$aws/rules/<rule>/...` like any topic (the
    fixture policy allows `$aws/rules/ingest/*` only)."""
    with _client(stack, "watcher-denied") as watcher, _client(stack, "sensor-denied") as device:
        assert watcher.subscribe("toggle/out", qos=1) == [1]
        assert device.publish("$aws/rules/b_sentinel/toggle/in", b"{}", qos=1) == NOT_AUTHORIZED
        stack.wait_rules_idle()
        device.publish("toggle/in", b"{}", qos=1)
        watcher.expect(1)
        stack.wait_rules_idle()
    assert [json.loads(m.payload)["fired_by"] for m in watcher.received] == ["b_sentinel"]


def test_basic_ingest_to_a_disabled_or_missing_rule_runs_nothing(stack: RunningLocalcore) -> None:
    """A Basic Ingest message names one rule: if it is disabled or absent, nothing runs and nothing is delivered."""
    engine = stack.core.engine
    assert engine is not None
    for topic in ("$aws/rules/a_disabled/toggle/in", "$aws/rules/no_such_rule/toggle/in"):
        assert stack.thread.run(engine.process(Message(topic, b"{}"))) == []
