"""Topic names, filters and matching with AWS IoT's rules (https://docs.aws.amazon.com/iot/latest/developerguide/topics.html)."""

from __future__ import annotations

import pytest

from localcore.broker.errors import InvalidTopic
from localcore.broker.limits import BrokerLimits
from localcore.broker.subscriptions import Subscription, SubscriptionIndex
from localcore.broker.topics import basic_ingest_rule, matches, parse_filter, validate_topic_name

AWS = BrokerLimits()


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("sensor/#", "sensor", False),  # AWS: '#' does not match the parent level
        ("sensor/#", "sensor/a/b", True),
        ("sensor/+/temp", "sensor/1/temp", True),
        ("sensor/+", "sensor/1/temp", False),
        ("+/+", "a/b", True),
        ("#", "$aws/events/x", False),  # wildcards at the first level never match $ topics
        ("$aws/events/#", "$aws/events/presence/connected/c", True),
        ("Sensor/a", "sensor/a", False),  # case-sensitive
    ],
)
def test_matching(topic_filter: str, topic: str, expected: bool):
    """AWS topics.html: '#' matches the remaining levels but not the parent; matching is case-sensitive."""
    assert matches(topic_filter, topic) is expected
    index: SubscriptionIndex[str] = SubscriptionIndex()
    index.add(Subscription("owner", "c1", parse_filter(topic_filter, AWS), 1))
    subscriptions, _ = index.match(topic)
    assert bool(subscriptions) is expected


def test_topic_limits():
    """AWS quotas: a topic has at most 256 bytes and 7 forward slashes; publishers cannot use wildcards."""
    validate_topic_name("/".join(["a"] * 8), AWS)
    with pytest.raises(InvalidTopic):
        validate_topic_name("/".join(["a"] * 9), AWS)
    with pytest.raises(InvalidTopic):
        validate_topic_name("x" * 257, AWS)
    with pytest.raises(InvalidTopic):
        validate_topic_name("a/+", AWS)
    validate_topic_name("x" * 257, BrokerLimits.unlimited())


def test_basic_ingest_and_share_prefixes_are_not_counted():
    """AWS: the `$aws/rules/<rule>/` and `$share/<group>/` prefixes do not count toward the 7 slashes."""
    topic = "$aws/rules/myrule/" + "/".join(["a"] * 8)
    validate_topic_name(topic, AWS)
    assert basic_ingest_rule(topic) == "myrule"
    parsed = parse_filter("$share/g/" + "/".join(["a"] * 8), AWS)
    assert (parsed.share_group, parsed.filter) == ("g", "/".join(["a"] * 8))


@pytest.mark.parametrize("bad", ["a/#/b", "a#", "a/b+", "", "$share/g", "$share//a"])
def test_invalid_filters(bad: str):
    """MQTT §4.7.1: '#' last and alone in its level, '+' alone in its level."""
    with pytest.raises(InvalidTopic):
        parse_filter(bad, AWS)


def test_index_overlapping_filters_deliver_once_at_highest_qos_and_prune():
    """MQTT 5 §3.3.4: overlapping subscriptions of one session may be delivered once with the highest QoS."""
    index: SubscriptionIndex[str] = SubscriptionIndex()
    index.add(Subscription("s", "c1", parse_filter("a/+", AWS), 0))
    index.add(Subscription("s", "c1", parse_filter("a/#", AWS), 1))
    index.add(Subscription("t", "c2", parse_filter("a/b", AWS), 0))
    subscriptions, _ = index.match("a/b")
    assert sorted((s.key, s.qos) for s in subscriptions) == [("c1", 1), ("c2", 0)]
    for text in ("a/+", "a/#"):
        assert index.remove("c1", parse_filter(text, AWS))
    index.remove("c2", parse_filter("a/b", AWS))
    assert index.count == 0
    assert index.match("a/b") == ([], [])


def test_keep_alive_clamp():
    """AWS mqtt.html: keep-alive 30–1200 s; 0 or above 1200 becomes 1200; 1–29 becomes 30."""
    assert [AWS.clamp_keep_alive(value) for value in (0, 5, 30, 600, 1200, 5000)] == [
        1200,
        30,
        30,
        600,
        1200,
        1200,
    ]
