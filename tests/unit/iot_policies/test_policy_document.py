"""Parsing and validation of policy documents (`iot-policies.html`, IAM JSON policy element reference)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iot_policies import PolicyDocumentError, PolicyError, parse_policy
from iot_policies.document import MAX_POLICY_CHARS, policy_size

ALLOW = {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}


def _error(source: Any, name: str = "") -> PolicyDocumentError:
    with pytest.raises(PolicyDocumentError) as caught:
        parse_policy(source, name=name)
    return caught.value


def test_statement_may_be_an_object_or_an_array() -> None:
    """`Statement` is one statement or an array of them (IAM grammar, reference 1.1)."""
    single = parse_policy({"Version": "2012-10-17", "Statement": ALLOW})
    many = parse_policy({"Version": "2012-10-17", "Statement": [ALLOW, {**ALLOW, "Effect": "Deny"}]})
    assert len(single.statements) == 1
    assert [s.effect for s in many.statements] == ["Allow", "Deny"]
    assert len(many.denies) == 1 and len(many.allows) == 1


def test_action_and_resource_may_be_strings_or_arrays() -> None:
    """Action, NotAction, Resource and NotResource accept a string or an array (IAM grammar)."""
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["iot:Publish", "iot:Receive"],
                    "Resource": ["arn:aws:iot:*:*:topic/a"],
                },
                {"Effect": "Deny", "NotAction": "iot:*", "NotResource": "arn:aws:iot:*:*:topic/b"},
            ],
        }
    )
    assert policy.statements[0].actions == ("iot:Publish", "iot:Receive")
    assert policy.statements[1].not_action and policy.statements[1].not_resource


def test_parses_json_text_and_counts_size_without_whitespace() -> None:
    """The 2048-character limit does not count whitespace (CreatePolicy API, reference 1.7)."""
    text = json.dumps({"Version": "2012-10-17", "Statement": ALLOW}, indent=8)
    policy = parse_policy(text, name="p")
    assert policy.name == "p"
    assert policy.size == policy_size(text) == len("".join(text.split()))


def test_size_limit_is_enforced() -> None:
    """Documents over 2048 non-whitespace characters are rejected (CreatePolicy API, reference 1.7)."""
    resources = [f"arn:aws:iot:us-east-1:123456789012:topic/t{i:04d}" for i in range(60)]
    error = _error({"Version": "2012-10-17", "Statement": {**ALLOW, "Resource": resources}})
    assert error.place == "(document)"
    assert str(MAX_POLICY_CHARS) in error.message


def test_padding_whitespace_does_not_count() -> None:
    """A document that is small once whitespace is removed fits, however much it is indented."""
    text = json.dumps({"Version": "2012-10-17", "Statement": [ALLOW] * 10}, indent=40)
    assert len(text) > MAX_POLICY_CHARS
    parse_policy(text)


@pytest.mark.parametrize(
    ("statement", "place", "words"),
    [
        ({**ALLOW, "Effect": "allow"}, "Statement[1].Effect", "Allow"),
        ({"Effect": "Allow", "Resource": "*"}, "Statement[1]", "Action or NotAction"),
        ({**ALLOW, "NotAction": "iot:Publish"}, "Statement[1]", "exactly one"),
        ({"Effect": "Allow", "Action": "iot:Connect"}, "Statement[1]", "Resource or NotResource"),
        ({**ALLOW, "Action": "Publish"}, "Statement[1].Action", "service:Name"),
        ({**ALLOW, "Action": ["iot:Connect", "iot Publish"]}, "Statement[1].Action[1]", "invalid action"),
        ({**ALLOW, "Resource": "topic/a"}, "Statement[1].Resource", "ARN"),
        (
            {**ALLOW, "Resource": ["*", "arn:aws:iot:*:*:topic/${bad"]},
            "Statement[1].Resource[1]",
            "unterminated",
        ),
        ({**ALLOW, "Resource": []}, "Statement[1].Resource", "non-empty"),
        ({**ALLOW, "Sid": "has space"}, "Statement[1].Sid", "letters and digits"),
        ({**ALLOW, "Principal": "*"}, "Statement[1].Principal", "Principal"),
        ({**ALLOW, "Effects": "Allow"}, "Statement[1].Effects", "unknown"),
        (
            {**ALLOW, "Condition": {"StringEqualz": {"iot:ClientId": "a"}}},
            "Statement[1].Condition.StringEqualz",
            "unknown",
        ),
        ({**ALLOW, "Condition": {"Bool": {"k": "yes"}}}, "Statement[1].Condition.Bool.k", "true or false"),
        (
            {**ALLOW, "Condition": {"IpAddress": {"aws:SourceIp": "300.1.1.1"}}},
            "Statement[1].Condition.IpAddress.aws:SourceIp",
            "IP",
        ),
        (
            {**ALLOW, "Condition": {"NumericLessThan": {"k": "ten"}}},
            "Statement[1].Condition.NumericLessThan.k",
            "numeric",
        ),
        (
            {**ALLOW, "Condition": {"NullIfExists": {"k": "true"}}},
            "Statement[1].Condition.NullIfExists",
            "Null",
        ),
        (
            {**ALLOW, "Condition": {"StringEquals": {"k": []}}},
            "Statement[1].Condition.StringEquals.k",
            "at least one",
        ),
        (
            {**ALLOW, "Condition": {"StringEquals": {"k": {"nested": 1}}}},
            "Statement[1].Condition.StringEquals.k",
            "strings",
        ),
        ({**ALLOW, "Condition": "x"}, "Statement[1].Condition", "object"),
    ],
)
def test_validation_errors_name_their_place(statement: dict[str, Any], place: str, words: str) -> None:
    """Every malformed element is reported with where it is (IAM grammar; error messages for the CLI)."""
    error = _error({"Version": "2012-10-17", "Statement": [ALLOW, statement]})
    assert error.place == place
    assert words in error.message
    assert isinstance(error, PolicyError)


@pytest.mark.parametrize(
    ("document", "place"),
    [
        ({"Version": "2012-10-17"}, "Statement"),
        ({"Version": "2012-10-17", "Statement": []}, "Statement"),
        ({"Version": "2012-10-17", "Statement": "x"}, "Statement"),
        ({"Version": "2012-10-17", "Statement": ["x"]}, "Statement[0]"),
        ({"Version": "2020-01-01", "Statement": ALLOW}, "Version"),
        ({"Version": "2012-10-17", "Statement": ALLOW, "Extra": 1}, "Extra"),
        ({"Version": "2012-10-17", "Statement": ALLOW, "Id": 5}, "Id"),
        ({"Version": "2012-10-17", "Statement": [{**ALLOW, "Sid": "A"}, {**ALLOW, "Sid": "A"}]}, "Statement"),
        ("[1, 2]", "(document)"),
        ('{"Version": ', "(document)"),
    ],
)
def test_document_level_errors(document: Any, place: str) -> None:
    """Document-level grammar: Version, Statement, no unknown elements, unique Sids, valid JSON."""
    assert _error(document).place == place


def test_error_names_the_policy() -> None:
    """A named policy's error message says which policy is broken."""
    error = _error({"Version": "2012-10-17", "Statement": {**ALLOW, "Effect": "Maybe"}}, name="user")
    assert error.policy == "user"
    assert str(error).startswith("policy 'user': Statement.Effect:")


def test_invalid_json_reports_line_and_column() -> None:
    """Broken JSON is reported with its position."""
    assert "line 2" in _error('{"Version": "2012-10-17",\n "Statement": }').message


def test_missing_version_means_2008_and_literal_variables() -> None:
    """Without Version, IAM uses 2008-10-17, where `${...}` is not substituted (IAM Version element)."""
    policy = parse_policy({"Statement": ALLOW})
    assert policy.version == "2008-10-17"
    assert not policy.variables_enabled


def test_condition_operators_parse_with_qualifiers_and_if_exists() -> None:
    """ForAnyValue:/ForAllValues: prefixes and the IfExists suffix (IAM condition operators)."""
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                **ALLOW,
                "Condition": {
                    "ForAllValues:StringEquals": {"iot:ConnectAttributes": ["PersistentConnect"]},
                    "StringLikeIfExists": {"iot:ClientId": "c-*"},
                    "Bool": {"iot:Connection.Thing.IsAttached": True},
                    "NumericGreaterThan": {"k": 3},
                },
            },
        }
    )
    by_op = {c.operator: c for c in policy.statements[0].conditions}
    assert by_op["ForAllValues:StringEquals"].qualifier == "ForAllValues"
    assert by_op["StringLikeIfExists"].if_exists and by_op["StringLikeIfExists"].base == "StringLike"
    assert by_op["Bool"].values == ("true",)
    assert by_op["NumericGreaterThan"].values == ("3",)


def test_documents_are_frozen() -> None:
    """Policy documents are immutable values (frozen dataclasses) safe to share between connections."""
    policy = parse_policy({"Version": "2012-10-17", "Statement": ALLOW})
    with pytest.raises(AttributeError):
        policy.name = "other"  # type: ignore[misc]


def test_deeply_nested_json_is_a_document_error_with_its_position() -> None:
    """A 2 KB document nested 1000 arrays deep is malformed JSON for CreatePolicy (MalformedPolicyException,
    https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html): refused with the line and
    column where nesting went too deep, never a RecursionError."""
    text = '{"Version": "2012-10-17",\n "Statement": ' + "[" * 1000 + "]" * 1000 + "}"
    assert len(text) < MAX_POLICY_CHARS
    error = _error(text, name="deep")
    assert error.place == "(document)" and error.policy == "deep"
    assert "nested more than 32 levels" in error.message and "line 2, column 46" in error.message


def test_deeply_nested_mapping_is_a_document_error() -> None:
    """The same check applies to an already-decoded document (the control plane and tests pass dicts)."""
    nested: Any = []
    for _ in range(1000):
        nested = [nested]
    assert "nested more than" in _error({"Version": "2012-10-17", "Statement": nested}).message


@pytest.mark.parametrize("operator", ["ForAllValues:StringEquals", "ForAnyValue:StringLike"])
def test_an_empty_value_list_is_a_valid_set_condition(operator: str) -> None:
    """`"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}` is AWS's own "only default features"
    connect policy (connect-policy.html, mqtt.html "Using connectAttributes"): with a set qualifier an empty
    list is a meaningful (empty) condition set."""
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {**ALLOW, "Condition": {operator: {"iot:ConnectAttributes": []}}},
        }
    )
    assert policy.statements[0].conditions[0].values == ()


def test_an_empty_value_list_without_a_set_qualifier_is_refused() -> None:
    """A single-valued operator with no value at all has no documented meaning: refused (strictest
    reading), with a hint at the set qualifiers."""
    error = _error(
        {"Version": "2012-10-17", "Statement": {**ALLOW, "Condition": {"StringEquals": {"k": []}}}}
    )
    assert error.place == "Statement.Condition.StringEquals.k"
    assert "ForAllValues:" in error.message
