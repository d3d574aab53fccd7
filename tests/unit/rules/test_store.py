"""The rule store refuses at creation what would fail on every message later."""

from __future__ import annotations

import pytest

from localcore.iot.exceptions import IotError
from localcore.iot.topic_rules import RuleStore


def test_a_bad_substitution_template_is_refused_at_creation() -> None:
    """CreateTopicRule validates substitution templates (iot-substitution-templates.html): a republish topic
    `out/${topic(2)` never reaches the engine."""
    payload = {
        "sql": "SELECT * FROM 'in/+'",
        "awsIotSqlVersion": "2016-03-23",
        "actions": [{"republish": {"topic": "out/${topic(2)", "qos": 0}}],
    }
    with pytest.raises(IotError) as error:
        RuleStore().create("bad_template", payload)
    assert error.value.code == "InvalidRequestException" and "republish.topic" in error.value.message


def test_enabled_rules_follow_every_change() -> None:
    """The engine's cached list of enabled rules follows Create, Disable, Enable and Delete."""
    store = RuleStore()
    store.create("r1", {"sql": "SELECT * FROM 'a'", "actions": []})
    assert [r.name for r in store.enabled()] == ["r1"]
    store.set_disabled("r1", True)
    assert store.enabled() == ()
    store.set_disabled("r1", False)
    store.delete("r1")
    assert store.enabled() == ()
