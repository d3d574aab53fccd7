"""Property tests: the compiled glob matcher agrees with a plain dynamic-programming reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iot_policies.matching import Pattern, glob_match

ALPHABET = "ab/:+#*?.$"


def reference_match(pattern: str, value: str) -> bool:
    """IAM glob by dynamic programming: `*` any run (also `/`, `:`), `?` one character, rest literal."""
    reachable = [True] + [False] * len(value)  # reachable[j]: pattern prefix matches value[:j]
    for char in pattern:
        if char == "*":
            for j in range(1, len(value) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            reachable = [False] + [
                reachable[j] and (char == "?" or char == value[j]) for j in range(len(value))
            ]
    return reachable[-1]


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=8), st.text(ALPHABET, max_size=10))
def test_glob_matches_reference(pattern: str, value: str) -> None:
    """`*` and `?` are the only wildcards, and they cross `/` and `:` (pub-sub-policy.html; IAM)."""
    assert glob_match(pattern, value) == reference_match(pattern, value)


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=10))
def test_literal_pattern_matches_only_itself(value: str) -> None:
    """A pattern with no `*`/`?` is an exact, case-sensitive string (MQTT `+`/`#` included)."""
    literal = value.replace("*", "").replace("?", "")
    assert glob_match(literal, literal)
    assert glob_match(literal, literal + "x") is False


@settings(max_examples=200, deadline=None)
@given(st.text("ab/+#:*?", min_size=1, max_size=8), st.text("ab/+#:*?", max_size=10))
def test_variable_values_are_never_wildcards(value: str, subject: str) -> None:
    """A substituted variable value matches only itself, even if it holds `*` or `?`."""
    pattern = Pattern.parse("x/${iot:ClientId}", "glob")
    assert pattern.matches("x/" + subject, {"iot:clientid": value}) == (subject == value)


def reference_arn_match(pattern: str, value: str) -> bool:
    """IAM ARN matching: the first five `:`-separated fields match separately, the rest is one field."""
    fields = pattern.split(":", 5)
    values = value.split(":", len(fields) - 1)
    return len(values) == len(fields) and all(map(reference_match, fields, values))


@settings(max_examples=400, deadline=None)
@given(st.text("a:*?/", max_size=12), st.text("a:/", max_size=12))
def test_arn_matching_matches_field_by_field_reference(pattern: str, value: str) -> None:
    """ARN patterns match each of the first five fields separately; wildcards in the resource part (and in
    a pattern's last field) cross `:` (IAM Resource element and ArnLike)."""
    assert Pattern.parse(pattern, "arn").matches(value, {}) == reference_arn_match(pattern, value)
