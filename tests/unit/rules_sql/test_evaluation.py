"""Evaluation details beyond single documented examples: results, binary output, variables, adapters."""

from __future__ import annotations

from decimal import Decimal

from localcore.broker.message import Message, Publisher, PublishProperties
from localcore.rules.sql import UNDEFINED, SqlContext, compile_sql, render_template

V2 = "2016-03-23"


def test_output_is_json_serialisable_and_payload_exact() -> None:
    """`output` is plain Python; `payload` keeps AWS's exact number text (iot-sql-data-types.html)."""
    result = compile_sql("SELECT a, b, c FROM 'x'").evaluate(
        SqlContext("x", b'{"a": 1.10, "b": 2, "c": [0.5]}')
    )
    assert result.value == {"a": Decimal("1.10"), "b": 2, "c": [Decimal("0.5")]}
    assert result.output == {"a": 1.1, "b": 2, "c": [0.5]}
    assert result.payload == b'{"a":1.10,"b":2,"c":[0.5]}'


def test_binary_select_star_passes_bytes_through() -> None:
    """`SELECT *` on a non-JSON payload outputs the raw bytes (binary-payloads.html, iot-sql-json.html)."""
    raw = bytes(range(256))
    result = compile_sql("SELECT * FROM 'x'").evaluate(SqlContext("x", raw))
    assert result.matched and result.is_binary and result.payload == raw and result.output == raw


def test_where_undefined_runs_nothing() -> None:
    """WHERE that is Undefined or false outputs nothing (iot-sql-where.html)."""
    query = compile_sql("SELECT * FROM 'x' WHERE temperature > 50")
    result = query.evaluate(SqlContext("x", b'{"humidity": 3}'))
    assert not result.matched and result.value is UNDEFINED


def test_nested_query_over_object_and_undefined_rows() -> None:
    """Nested query over an object: one result; rows failing WHERE left out (iot-sql-nested-queries.html)."""
    query = compile_sql(
        "SELECT (SELECT a FROM o) AS one, (SELECT VALUE n FROM e WHERE n > 1) AS big FROM 'x'", V2
    )
    payload = b'{"o": {"a": 1, "b": 2}, "e": [{"n": 1}, {"n": 2}, {"m": 3}, {"n": 5}]}'
    assert query.evaluate(SqlContext("x", payload)).output == {"one": {"a": 1}, "big": [2, 5]}


def test_set_variables_reach_templates() -> None:
    """SET variables can be used in action substitution templates (iot-sql-set.html)."""
    query = compile_sql("SET @id = topic(2) SELECT text FROM 'chat/+/prompt'", V2)
    ctx = SqlContext("chat/u7/prompt", b'{"text": "hi", "rid": "r1"}')
    result = query.evaluate(ctx)
    rendered = render_template("chat/${@id}/response/${rid}", ctx, V2, result.variables)
    assert rendered == "chat/u7/response/r1"


def test_template_sees_the_original_message_not_the_select_output() -> None:
    """Templates cannot use SELECT aliases: only the original payload (iot-substitution-templates.html)."""
    ctx = SqlContext("a/b", b'{"deviceid": "d1"}')
    compile_sql("SELECT deviceid AS alias FROM 'a/b'").evaluate(ctx)
    assert render_template("x/${alias}/${deviceid}", ctx) == "x//d1"


def test_context_from_broker_message() -> None:
    """A broker Message maps onto the context; no client id (HTTP publish) gives clientid() "n/a"."""
    message = Message(
        topic="chat/u1/prompt",
        payload=b'{"text": "hi"}',
        properties=PublishProperties(content_type="application/json", user_properties=(("k", "v"),)),
        publisher=Publisher(client_id=None, principal="AROA1:CognitoIdentityCredentials", trace_id=None),
        received_at=1700000000.5,
    )
    ctx = SqlContext.from_message(message)
    sql = (
        "SELECT clientid() AS c, principal() AS p, timestamp() AS t, traceid() AS tr, "
        "get_mqtt_property('content_type') AS ct, get_user_properties('k') AS k FROM 'chat/+/prompt'"
    )
    assert compile_sql(sql, V2).evaluate(ctx).output == {
        "c": "n/a",
        "p": "AROA1:CognitoIdentityCredentials",
        "t": 1700000000500,
        "ct": "application/json",
        "k": ["v"],
    }


def test_timestamp_and_uuid_are_injectable() -> None:
    """timestamp() and newuuid() read injectable providers (iot-sql-functions.html)."""
    ctx = SqlContext("x", b"{}", now_ms=lambda: 42, new_uuid=lambda: "u-1")
    assert compile_sql("SELECT timestamp() AS t, newuuid() AS u FROM 'x'").evaluate(ctx).output == {
        "t": 42,
        "u": "u-1",
    }
