"""Parsing: statement shape, SQL-version gates and SqlParseException-shaped errors with positions."""

from __future__ import annotations

import pytest

from localcore.errors import LocalcoreError
from localcore.rules.sql import SqlContext, SqlParseError, compile_sql, compile_template, topic_matches

V2 = "2016-03-23"


@pytest.mark.parametrize(
    ("sql", "version", "line", "column", "fragment"),
    [
        ("SELECT FROM 'a'", None, 1, 8, "Expected an expression or * after SELECT"),
        ("SELECT a FROM a/b", None, 1, 15, "Expected a topic filter in quotes after FROM"),
        ("SELECT a,\nFROM 'a'", None, 2, 1, "found 'FROM'"),
        ("SELECT a FROM 'a' WHERE", None, 1, 24, "found end of statement"),
        ("SELECT a FROM 'a' b", None, 1, 19, "Expected end of statement"),
        ("SELECT 'abc FROM 'a'", None, 1, 20, "Unterminated string literal"),
        ("SELECT a ! b FROM 'a'", None, 1, 10, "Unexpected character '!'"),
        ("SELECT a || b FROM 'a'", None, 1, 10, "no '||' operator; concatenate with concat(a, b) or a + b"),
        ("SELECT a FROM 'a/#/b'", None, 1, 15, "'#' must be a whole last level"),
        ("SELECT a FROM 'a/b+'", None, 1, 15, "'+' must be a whole level"),
        ("SELECT CASE color END FROM 'a'", None, 1, 19, "Expected WHEN"),
        ("SELECT CASE WHEN a THEN 1 END FROM 'a'", None, 1, 13, "Expected an expression"),
        ("SELECT (a FROM 'a'", None, 1, 11, "Expected ')'"),
        ("SELECT foo(1) FROM 'a'", None, 1, 8, "Undefined function foo()"),
        ("SELECT cast(a AS Blob) FROM 'a'", None, 1, 18, "Unknown cast type Blob"),
        ("SELECT @x FROM 'a'", None, 1, 8, "Variable @x is not set"),
        ("SET @x = 1, @x = 2 SELECT @x FROM 'a'", None, 1, 13, "already set"),
        ("SELECT 1e99999 FROM 'a'", None, 1, 8, "Number out of range"),
        ("SELECT 'a\\q' FROM 'a'", None, 1, 10, "Invalid escape"),
    ],
)
def test_parse_error_position(sql: str, version: str | None, line: int, column: int, fragment: str) -> None:
    """Bad statements raise SqlParseError like AWS's SqlParseException: message ending `at line:column`."""
    with pytest.raises(SqlParseError) as caught:
        compile_sql(sql, version)
    error = caught.value
    assert isinstance(error, LocalcoreError)
    assert (error.line, error.column) == (line, column)
    assert fragment in str(error)
    assert str(error).endswith(f"at {line}:{column}")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT [1, 2] AS a FROM 'a'",
        "SELECT {'k': 1} AS a FROM 'a'",
        "SELECT (SELECT VALUE n FROM e) AS s FROM 'a'",
        "SELECT encode(*, 'base64') AS d FROM 'a'",
        "SELECT decode(x, 'base64') AS d FROM 'a'",
        "SELECT length(x) AS n FROM 'a'",
        "SELECT isUndefined(x) AS n FROM 'a'",
        "SELECT cast(x AS Decimal) AS n FROM 'a'",
        "SELECT cast(x AS Boolean) AS n FROM 'a'",
        "SELECT parse_time('yyyy', 0) AS n FROM 'a'",
    ],
)
def test_2016_features_rejected_under_2015(sql: str) -> None:
    """Literals, nested queries, 2016-only functions and casts need 2016-03-23 (iot-rule-sql-version.html)."""
    with pytest.raises(SqlParseError, match="2016-03-23"):
        compile_sql(sql)  # version omitted -> 2015-10-08, the CloudFormation default
    compile_sql(sql, V2)
    compile_sql(sql, "beta")


@pytest.mark.parametrize(
    "name", ["aws_lambda", "get_dynamodb", "get_thing_shadow", "get_secret", "machinelearning_predict"]
)
def test_external_functions_rejected_at_creation(name: str) -> None:
    """External functions (iot-sql-functions.html) are refused when the rule is created, with the reason."""
    with pytest.raises(SqlParseError, match="not supported by localcore"):
        compile_sql(f"SELECT {name}('x', *) AS r FROM 'a'", V2)


def test_unknown_sql_version_rejected() -> None:
    """awsIotSqlVersion accepts only 2015-10-08, 2016-03-23 and beta (iot-rule-sql-version.html)."""
    with pytest.raises(SqlParseError, match="Unsupported awsIotSqlVersion"):
        compile_sql("SELECT * FROM 'a'", "2017-01-01")


def test_keywords_and_function_names_are_case_insensitive() -> None:
    """The docs write `select`, `SELECT`, `Round(...)`, `Trim(...)`; all parse the same."""
    query = compile_sql("select value Round(n) from 'a' where n <> 1 AND TRUE", V2)
    result = query.evaluate(SqlContext("a", b'{"n": 1.5}'))
    assert result.matched and result.payload == b"2"


def test_field_names_are_case_sensitive() -> None:
    """JSON keys are case-sensitive: `N` does not read the key `n` (JSON extensions, iot-sql-json.html)."""
    result = compile_sql("SELECT VALUE N FROM 'a'").evaluate(SqlContext("a", b'{"n": 1}'))
    assert result.payload == b""


def test_default_names_and_dotted_alias() -> None:
    """Unaliased items take the last field name or the function name; `AS a.b` nests (iot-sql-json.html)."""
    query = compile_sql("SELECT color.red, upper(name), foo.bar AS bar.baz FROM 'a'")
    payload = b'{"color": {"red": 1}, "name": "x", "foo": {"bar": 2}}'
    assert query.evaluate(SqlContext("a", payload)).output == {"red": 1, "upper": "X", "bar": {"baz": 2}}


def test_statement_without_from_is_basic_ingest_only() -> None:
    """FROM is optional for Basic Ingest rules (iot-sql-reference.html); such a rule matches no topic."""
    query = compile_sql("SELECT * WHERE a = 1")
    assert query.topic_filter is None and not query.matches_topic("a")


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("sensor/#", "sensor/x", True),
        ("sensor/#", "sensor/x/y", True),
        ("sensor/#", "sensor/", True),
        ("sensor/#", "sensor", False),
        ("chat/+/prompt", "chat/abc/prompt", True),
        ("chat/+/prompt", "chat/abc/def/prompt", False),
        ("chat/+/prompt", "chat//prompt", True),
        ("#", "a/b", True),
        ("#", "$aws/things/x", False),
        ("a/b", "a/b/c", False),
        ("a/+", "a", False),
    ],
)
def test_topic_filter_matching(topic_filter: str, topic: str, expected: bool) -> None:
    """FROM uses MQTT filter semantics; `sensor/#` does not match `sensor` in AWS (topics.html, mqtt.html)."""
    assert topic_matches(topic_filter, topic) is expected
    assert compile_sql(f"SELECT * FROM '{topic_filter}'").matches_topic(topic) is expected


def test_template_errors_carry_template_positions() -> None:
    """A bad `${...}` template is refused with the position inside the template text."""
    with pytest.raises(SqlParseError) as caught:
        compile_template("chat/${topic(}/x")
    assert caught.value.offset == 13
    with pytest.raises(SqlParseError, match="Unterminated substitution template"):
        compile_template("chat/${topic()")


def test_out_of_range_payload_number_is_not_json() -> None:
    """Decimals beyond 9.999E999 (iot-sql-data-types.html) make the payload non-JSON: fields are Undefined."""
    query = compile_sql("SELECT VALUE a FROM 'x'")
    assert query.evaluate(SqlContext("x", b'{"a": 1, "b": 1e99999}')).payload == b""
    assert query.evaluate(SqlContext("x", b'{"a": 1, "b": 1e999}')).payload == b"1"


def _deep(opening: str, closing: str, levels: int) -> str:
    return opening * levels + "1" + closing * levels


@pytest.mark.parametrize(
    ("expression", "column"),
    [
        (_deep("(", ")", 90), 46),  # "SELECT VALUE " takes 13 columns: the 33rd '(' is at column 46
        (_deep("abs(", ")", 90), 142),
        (_deep("[", "]", 90), 46),
        ("NOT " * 1000 + "true", 142),
        ("- " * 1000 + "1", 78),
    ],
    ids=["parentheses", "calls", "arrays", "not", "minus"],
)
def test_deep_nesting_is_a_parse_error_with_a_position(expression: str, column: int) -> None:
    """A statement nested deeper than the parser's limit is refused like any SqlParseException, with the
    place where the limit was crossed, never a RecursionError (iot-sql-reference.html: a rule whose SQL
    cannot be parsed is refused when it is created)."""
    with pytest.raises(SqlParseError, match="nested more than 32 levels") as caught:
        compile_sql(f"SELECT VALUE {expression} FROM 'a'", V2)
    assert (caught.value.line, caught.value.column) == (1, column)


@pytest.mark.parametrize("operator", ["+", " AND ", " OR ", " = ", "*", " <> "])
def test_long_operator_chains_are_a_parse_error_not_a_crash(operator: str) -> None:
    """3000 operators in a row build a tree 3000 levels deep; it is refused with a position instead of
    overflowing the stack when compiled or evaluated (iot-sql-operators.html)."""
    with pytest.raises(SqlParseError, match="more than 200 operations") as caught:
        compile_sql("SELECT VALUE " + operator.join(["a"] * 3000) + " FROM 'a'", V2)
    assert caught.value.line == 1


def test_chains_up_to_the_limit_compile_and_evaluate_from_a_deep_stack() -> None:
    """The limits leave room: 199 additions and 32 nested calls compile and evaluate even when the caller
    is already 400 frames deep (the engine evaluates rules inside asyncio tasks and callbacks)."""

    def at_depth(frames: int) -> tuple[bytes, bytes]:
        if frames:
            return at_depth(frames - 1)
        chain = compile_sql("SELECT VALUE " + "+".join(["a"] * 199) + " FROM 'a'", V2)
        calls = compile_sql("SELECT VALUE " + _deep("abs(", ")", 31).replace("1", "a") + " FROM 'a'", V2)
        context = SqlContext("a", b'{"a": -1}')
        return chain.evaluate(context).payload, calls.evaluate(context).payload

    assert at_depth(400) == (b"-199", b"1")


def test_deep_templates_are_a_parse_error() -> None:
    """Substitution templates use the same parser and the same limits (iot-substitution-templates.html)."""
    with pytest.raises(SqlParseError, match="nested more than 32 levels"):
        compile_template("chat/${" + _deep("(", ")", 90) + "}")
