"""Glob matching and policy variables (`pub-sub-policy.html`, `iot-policy-variables.html`, IAM variables)."""

from __future__ import annotations

import pytest

from iot_policies.errors import PolicyDocumentError
from iot_policies.matching import Escaped, Pattern, Text, Variable, glob_match, parse_template

ARN = "arn:aws:iot:us-east-1:123456789012:"


def test_star_crosses_topic_levels() -> None:
    """`*` is not confined to one topic level (pub-sub-policy.html, "Using wildcard characters")."""
    assert glob_match("some/*", "some/a/b/c")
    assert glob_match("some/*/topic", "some/a/b/topic")
    assert glob_match("some/*", "some/")


def test_question_mark_is_exactly_one_character() -> None:
    """`?` represents any single character; a run of `?` stays within a level by length
    (pub-sub-policy.html: `topic/some/?????/topic`)."""
    assert glob_match("some/?????/topic", "some/abcde/topic")
    assert not glob_match("some/?????/topic", "some/abcd/topic")
    assert not glob_match("some/?????/topic", "some/abcdef/topic")
    assert glob_match("sensor???", "sensor/+#")  # IAM `?` also matches `/` (reference notes 1.3)


@pytest.mark.parametrize("topic", ["some/+/topic", "some/#", "+", "#"])
def test_mqtt_wildcards_are_literal(topic: str) -> None:
    """`+` and `#` have no special meaning in a policy (pub-sub-policy.html)."""
    assert glob_match(topic, topic)
    assert not glob_match("some/+/topic", "some/x/topic")
    assert not glob_match("some/#", "some/x")


def test_matching_is_case_sensitive() -> None:
    """MQTT topics are case-sensitive (topics.html); we match policy resources case-sensitively."""
    assert not glob_match("Chat/*", "chat/x")


def test_regex_metacharacters_are_literal() -> None:
    """Only `*` and `?` are wildcards; everything else is literal (iot-policy-variables.html)."""
    assert glob_match("a.b[c]$(d)^", "a.b[c]$(d)^")
    assert not glob_match("a.b", "axb")


def test_template_parsing_variables_and_escapes() -> None:
    """`${key}` is a variable; `${*}` `${?}` `${$}` are literal characters (IAM policy variables)."""
    parts = parse_template("t/${iot:ClientId}/${*}${?}${$}/x")
    assert parts == (
        Text("t/"),
        Variable("iot:clientid"),
        Text("/"),
        Escaped("*"),
        Escaped("?"),
        Escaped("$"),
        Text("/x"),
    )


def test_escapes_match_only_the_literal_character() -> None:
    """`${*}` matches a literal `*` only, not any string (IAM "special characters")."""
    pattern = Pattern.parse("a/${*}/b${?}", "glob")
    assert pattern.matches("a/*/b?", {})
    assert not pattern.matches("a/x/bc", {})


def test_variable_value_is_literal_not_a_wildcard() -> None:
    """A substituted value is text: a client id of `*` does not widen the resource (our choice; the docs'
    security note only covers `+`, see docs/policies.md)."""
    pattern = Pattern.parse(ARN + "topic/${iot:ClientId}/x", "arn")
    assert pattern.matches(ARN + "topic/*/x", {"iot:clientid": "*"})
    assert not pattern.matches(ARN + "topic/abc/x", {"iot:clientid": "*"})


def test_unresolved_variable_matches_nothing() -> None:
    """A resource whose variable has no value in the request context matches nothing (IAM; reference 1.4)."""
    pattern = Pattern.parse(ARN + "topic/${iot:Connection.Thing.ThingName}/*", "arn")
    assert pattern.matcher({}) is None
    assert not pattern.matches(ARN + "topic//x", {})
    assert pattern.matches(ARN + "topic/dev1/x", {"iot:connection.thing.thingname": "dev1"})


def test_variable_default_is_used_when_missing() -> None:
    """IAM `${key, 'default'}` syntax (uncertain for IoT; documented in docs/policies.md)."""
    pattern = Pattern.parse("p/${iot:ClientId, 'none'}", "glob")
    assert pattern.matches("p/none", {})
    assert pattern.matches("p/c1", {"iot:clientid": "c1"})


def test_variables_are_literal_when_disabled() -> None:
    """Version 2008-10-17 predates policy variables: `${...}` is plain text (IAM Version element)."""
    pattern = Pattern.parse("t/${iot:ClientId}", "glob", variables=False)
    assert pattern.matches("t/${iot:ClientId}", {"iot:clientid": "c1"})
    assert not pattern.matches("t/c1", {"iot:clientid": "c1"})


@pytest.mark.parametrize("bad", ["t/${iot:ClientId", "t/${}", "t/${a b}"])
def test_malformed_variables_are_rejected(bad: str) -> None:
    """A variable must be `${key}` with a valid key name."""
    with pytest.raises(PolicyDocumentError, match="variable"):
        parse_template(bad, place="Statement[0].Resource")


def test_identity_id_with_colon_in_resource_part() -> None:
    """Colons after the fifth one belong to the resource, like the `:` in a Cognito identity id
    (reference 1.3; IAM Resource element)."""
    sub = "us-east-1:6f1c-aa"
    pattern = Pattern.parse(ARN + "topic/chat/${cognito-identity.amazonaws.com:sub}/*", "arn")
    lookup = {"cognito-identity.amazonaws.com:sub": sub}
    assert pattern.matches(f"{ARN}topic/chat/{sub}/prompt", lookup)
    assert not pattern.matches(f"{ARN}topic/chat/us-east-1:other/prompt", lookup)


def test_arn_fields_keep_wildcards_inside_them() -> None:
    """IAM matches each of the first five ARN fields separately; the resource part may hold colons."""
    pattern = Pattern.parse("arn:aws:iot:*:*:topic/a", "arn")
    assert pattern.matches("arn:aws:iot:us-east-1:123456789012:topic/a", {})
    # a region wildcard cannot swallow the account and part of the resource
    assert not pattern.matches("arn:aws:iot:us-east-1:123:topic/x:topic/a", {})
    assert Pattern.parse("arn:aws:iot:us-east-1:*", "arn").matches("arn:aws:iot:us-east-1:1:topic/a:b", {})
    assert Pattern.parse("*", "arn").matches("arn:aws:iot:r:a:client/x", {})
    assert Pattern.parse(ARN + "topic/*", "arn").matches(ARN + "topic/a:b:c", {})


def test_ignore_case_patterns() -> None:
    """StringEqualsIgnoreCase compares case-insensitively (IAM condition operators)."""
    assert Pattern.parse("Hello", "exact", ignore_case=True).matches("hELLO", {})
    assert not Pattern.parse("Hello", "exact").matches("hello", {})
    assert not Pattern.parse("He*", "exact").matches("Hello", {})


def test_compiled_matchers_are_cached_per_values() -> None:
    """Precompiled once per distinct variable values (performance: the broker checks every delivery)."""
    pattern = Pattern.parse(ARN + "topic/${iot:ClientId}/*", "arn")
    first = pattern.matcher({"iot:clientid": "c1"})
    assert first is pattern.matcher({"iot:clientid": "c1"})
    assert first is not pattern.matcher({"iot:clientid": "c2"})
