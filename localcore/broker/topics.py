"""Topic names and filters: MQTT syntax plus AWS IoT's limits, and filter matching.

AWS rules: UTF-8, case-sensitive, at most 256 bytes and 7 slashes (the Basic Ingest `$aws/rules/<rule>/`
prefix and the `$share/<group>/` prefix are not counted), `#` last and alone in its level, `+` alone in
its level, and `sensor/#` does not match `sensor` (https://docs.aws.amazon.com/iot/latest/developerguide/topics.html).
"""

from __future__ import annotations

from dataclasses import dataclass

from localcore.broker.errors import InvalidTopic
from localcore.broker.limits import BrokerLimits

BASIC_INGEST_PREFIX = "$aws/rules/"
SHARE_PREFIX = "$share/"


def split_basic_ingest(topic: str) -> tuple[str, str] | None:
    """A Basic Ingest topic `$aws/rules/<rule>/<rest>` as (rule, rest), else None."""
    if not topic.startswith(BASIC_INGEST_PREFIX):
        return None
    rule, slash, rest = topic[len(BASIC_INGEST_PREFIX) :].partition("/")
    return (rule, rest) if rule and slash else None


def basic_ingest_rule(topic: str) -> str | None:
    """The rule name of a Basic Ingest topic `$aws/rules/<rule>/...`, else None."""
    target = split_basic_ingest(topic)
    return target[0] if target else None


def _check_size(text: str, counted: str, limits: BrokerLimits) -> None:
    if limits.max_topic_bytes is not None and len(text.encode("utf-8")) > limits.max_topic_bytes:
        raise InvalidTopic(text, f"longer than {limits.max_topic_bytes} bytes")
    if limits.max_topic_slashes is not None and counted.count("/") > limits.max_topic_slashes:
        raise InvalidTopic(text, f"more than {limits.max_topic_slashes} forward slashes")


def validate_topic_name(topic: str, limits: BrokerLimits) -> None:
    """A topic a message is published to: no wildcards, not empty, within AWS limits."""
    if not topic:
        raise InvalidTopic(topic, "empty topic name")
    if "+" in topic or "#" in topic:
        raise InvalidTopic(topic, "wildcards are not allowed in a topic name")
    counted = topic
    rule = basic_ingest_rule(topic)
    if rule is not None:
        counted = topic[len(BASIC_INGEST_PREFIX) + len(rule) + 1 :]
    _check_size(topic, counted, limits)


@dataclass(frozen=True)
class ParsedFilter:
    """A subscription filter, split from its `$share/<group>/` prefix if it has one."""

    full: str  # as the client sent it (the resource for iot:Subscribe)
    filter: str  # the filter that is matched against topics
    share_group: str | None = None

    @property
    def has_wildcards(self) -> bool:
        return "+" in self.filter or "#" in self.filter


def _check_wildcards(topic_filter: str, original: str) -> None:
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise InvalidTopic(original, "'#' must be the last level and alone in it")
        if "+" in level and level != "+":
            raise InvalidTopic(original, "'+' must be alone in its level")


def parse_filter(topic_filter: str, limits: BrokerLimits) -> ParsedFilter:
    """Validate a SUBSCRIBE filter, including shared `$share/<group>/<filter>` filters."""
    if not topic_filter:
        raise InvalidTopic(topic_filter, "empty topic filter")
    group: str | None = None
    inner = topic_filter
    if topic_filter.startswith(SHARE_PREFIX):
        group, slash, inner = topic_filter[len(SHARE_PREFIX) :].partition("/")
        if not group or not slash or not inner or "+" in group or "#" in group:
            raise InvalidTopic(topic_filter, "shared subscriptions look like $share/<group>/<filter>")
    _check_wildcards(inner, topic_filter)
    _check_size(topic_filter, inner, limits)
    return ParsedFilter(topic_filter, inner, group)


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching; filters starting with a wildcard do not match `$` topics; `a/#` does not match `a`."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return len(topic_levels) > index
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)
