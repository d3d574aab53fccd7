"""Property tests: the parser never crashes, the evaluator never raises, on arbitrary input."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localcore.rules.sql import SqlContext, SqlParseError, compile_sql, render_template
from localcore.rules.sql.values import UNDEFINED

VERSIONS = st.sampled_from([None, "2015-10-08", "2016-03-23", "beta"])
TOKENS = [
    "SELECT",
    "VALUE",
    "FROM",
    "WHERE",
    "SET",
    "AS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "AND",
    "OR",
    "NOT",
    "TRUE",
    "false",
    "NULL",
    "*",
    ",",
    ".",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "+",
    "-",
    "/",
    "%",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "'a/+/c'",
    "'x'",
    '"y"',
    "0",
    "1.5",
    "3e2",
    "-7",
    "a",
    "b",
    "e",
    "n",
    "@v",
    "topic",
    "get",
    "cast",
    "concat",
    "substring",
    "encode",
    "decode",
    "'base64'",
    "Int",
    "Decimal",
    "upper",
    "regexp_replace",
    "'(a'",
    "trunc",
    "parse_time",
    "'yyyy'",
    "transform",
    "'enrichArray'",
]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _compile_or_parse_error(sql: str, version: str | None) -> None:
    try:
        compile_sql(sql, version)
    except SqlParseError as error:
        assert error.line >= 1 and error.column >= 1 and 0 <= error.offset <= len(sql)


@SETTINGS
@given(st.text(max_size=80), VERSIONS)
def test_random_text_never_crashes_the_parser(sql: str, version: str | None) -> None:
    """Any text either compiles or raises SqlParseError with a position inside it (never another error)."""
    _compile_or_parse_error(sql, version)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=25), VERSIONS)
def test_token_soup_never_crashes_the_parser(tokens: list[str], version: str | None) -> None:
    """Random sequences of real SQL tokens either compile or raise SqlParseError."""
    _compile_or_parse_error(" ".join(tokens), version)


# -- grammar-shaped statements evaluated on random JSON ----------------------------------------------

_LEAVES = st.sampled_from(
    [
        "a",
        "b.c",
        "n",
        "e",
        "*",
        "1",
        "2.5",
        "'s'",
        "'10'",
        "true",
        "NULL",
        "@v",
        "[1, 'x']",
        "{'k': a}",
        "topic(2)",
        "timestamp()",
    ]
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children, st.sampled_from(["+", "-", "*", "/", "%", "=", "<>", "<", ">=", "AND", "OR"]), children
    )
    return st.one_of(
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"(NOT {c})"),
        children.map(lambda c: f"-{c}"),
        st.tuples(
            st.sampled_from(["abs", "upper", "length", "floor", "isUndefined", "md5", "cast_int", "chr"]),
            children,
        ).map(lambda t: f"cast({t[1]} AS Int)" if t[0] == "cast_int" else f"{t[0]}({t[1]})"),
        st.tuples(
            st.sampled_from(
                [
                    "concat",
                    "get",
                    "substring",
                    "mod",
                    "power",
                    "startswith",
                    "lpad",
                    "regexp_matches",
                    "bitand",
                    "trunc",
                ]
            ),
            children,
            children,
        ).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"CASE {t[0]} WHEN {t[1]} THEN {t[2]} END"),
        children.map(lambda c: f"(SELECT VALUE {c} FROM e)"),
        children.map(lambda c: f"{c}[0]"),
    )


EXPRESSIONS = st.recursive(_LEAVES, _combine, max_leaves=8)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from("abcen"), children, max_size=4)
    ),
    max_leaves=12,
)


@SETTINGS
@given(EXPRESSIONS, EXPRESSIONS, JSON_VALUES | st.binary(max_size=16))
def test_evaluator_never_raises(select_expr: str, where_expr: str, payload: Any) -> None:
    """Grammar-shaped SQL on random JSON (or binary) payloads evaluates without raising; output serialises."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    ctx = SqlContext("x/y", data, timestamp_ms=1)
    selecting = compile_sql(f"SET @v = a SELECT {select_expr} AS out, * FROM 'x/+'", "2016-03-23")
    result = selecting.evaluate(ctx)
    assert result.matched
    if not result.is_binary:
        json.loads(result.payload)
        json.dumps(result.output)
    filtering = compile_sql(
        f"SET @v = b SELECT VALUE {select_expr} FROM 'x/+' WHERE {where_expr}", "2016-03-23"
    )
    outcome = filtering.evaluate(ctx)
    if outcome.matched and outcome.value is not UNDEFINED and not outcome.is_binary:
        json.loads(outcome.payload)
        json.dumps(outcome.output)
    render_template(f"t/${{{select_expr}}}", SqlContext("x/y", data), "2016-03-23")
