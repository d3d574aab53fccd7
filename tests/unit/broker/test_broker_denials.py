"""The denial log under a flood: the first lines whole, then one summary per interval with counts, nothing lost.

The line format is localcore's own (AWS's equivalent is the CloudWatch AWSIotLogsV2 log group, where AWS IoT
logs authorization failures per action: https://docs.aws.amazon.com/iot/latest/developerguide/
cwl-format.html); docs/security.md describes it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcore.broker import codec
from localcore.broker.broker import Broker
from localcore.broker.denials import DenialLog
from localcore.broker.testing import RuleAuthenticator
from tests.support.protocol_support import T0, FakeClock, Wire

AUTHZ = "localcore.broker.authz"


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == AUTHZ]


def counted(lines_: list[dict[str, Any]]) -> int:
    """How many denials the lines account for: one per whole line, `suppressed` per summary."""
    return sum(line["suppressed"] if line["event"] == "denied-summary" else 1 for line in lines_)


def test_a_flood_gives_the_first_lines_whole_then_one_summary_with_every_denial_counted(caplog):
    """10,000 denials in one interval: 20 whole lines, then one `denied-summary` whose counts add up to the
    other 9,980, most frequent first."""
    clock = FakeClock()
    denials = DenialLog("mallory-1", "mallory", clock)
    for index in range(10_000):
        denials.denied("iot:Subscribe", f"chat/victim-{index % 3}/response/+", "no matching allow")
    assert len(lines(caplog)) == 20
    denials.flush()
    *whole, summary = lines(caplog)
    assert [line["event"] for line in whole] == ["denied"] * 20
    assert whole[0] == {
        "event": "denied",
        "action": "iot:Subscribe",
        "resource": "chat/victim-0/response/+",
        "client_id": "mallory-1",
        "principal": "mallory",
        "reason": "no matching allow",
    }
    assert summary["event"] == "denied-summary" and summary["suppressed"] == 9_980 and summary["logged"] == 20
    assert sum(entry["count"] for entry in summary["counts"]) == 9_980
    assert [entry["count"] for entry in summary["counts"]] == sorted(
        (entry["count"] for entry in summary["counts"]), reverse=True
    )
    denials.flush()
    assert len(lines(caplog)) == 21  # nothing more to say


def test_distinct_resources_beyond_the_limit_are_counted_per_action(caplog):
    """A flood over ever-new topics cannot grow the summary: 20 resources by name, the rest per action."""
    denials = DenialLog("c", "p", FakeClock(), whole_lines=0)
    for index in range(500):
        denials.denied("iot:Publish", f"spam/{index}", "no matching allow")
    denials.denied("iot:Subscribe", "#", "no matching allow")
    denials.flush()
    [summary] = lines(caplog)
    assert len(summary["counts"]) == 20
    assert summary["other_resources"] == [
        {"action": "iot:Publish", "count": 480},
        {"action": "iot:Subscribe", "count": 1},
    ]
    assert counted([summary]) == 501


def test_each_interval_starts_with_whole_lines_again(caplog):
    """After an interval (10 s) the summary of the last one is written and new denials are whole again, so a
    connection denied now and then, long after a burst, still logs every detail."""
    clock = FakeClock()
    denials = DenialLog("c", "p", clock, whole_lines=2)
    for _ in range(5):
        denials.denied("iot:Publish", "a", "r")
    assert denials.due() == T0 + 10
    clock.advance(10)
    denials.denied("iot:Publish", "b", "r")
    events = [(line["event"], line.get("resource"), line.get("suppressed")) for line in lines(caplog)]
    assert events == [
        ("denied", "a", None),
        ("denied", "a", None),
        ("denied-summary", None, 3),
        ("denied", "b", None),
    ]
    assert denials.due() is None  # nothing counted in the new interval yet


def test_a_connection_flooding_denied_subscribes_logs_a_bounded_number_of_lines(caplog):
    """Through the protocol: 1,000 SUBSCRIBEs of 8 denied filters each (MQTT 5 SUBACK 0x87, the connection
    stays). The connection's deadline becomes the summary's, `tick` writes it, and closing writes the rest."""
    clock = FakeClock()
    denied = {("iot:Subscribe", f"chat/victim/{index}") for index in range(8)}
    wire = Wire(Broker(RuleAuthenticator(deny=denied)), clock)
    wire.connect("mallory", codec.MQTT5, keep_alive=1200)
    filters = [(topic, 1) for _, topic in sorted(denied)]
    for packet_id in range(1, 1001):
        wire.send(codec.encode_subscribe(packet_id, filters, codec.MQTT5))
    assert len(lines(caplog)) == 20
    assert wire.protocol.deadline() == T0 + 10  # the summary's, before the keep-alive's (30 min)
    wire.protocol.tick(clock.advance(10))
    assert lines(caplog)[-1]["event"] == "denied-summary"
    wire.send(codec.encode_subscribe(1001, filters, codec.MQTT5))
    wire.protocol.connection_lost()
    assert counted(lines(caplog)) == 8 * 1001
    assert len(lines(caplog)) == 20 + 1 + 8 + 0  # a new interval: 8 whole lines, nothing left to summarise
