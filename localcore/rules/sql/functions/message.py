"""Functions about the message and its metadata, collections, encoding, type tests and cast()."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from localcore.broker.topics import split_basic_ingest
from localcore.rules.sql.scope import Scope
from localcore.rules.sql.values import (
    DECIMAL_CONTEXT,
    UNDEFINED,
    V1,
    DecimalError,
    floor_int,
    from_double,
    to_bool,
    to_decimal,
    to_int,
    to_string,
    whole_to_int,
)


def logical_topic(topic: str) -> str:
    """The topic as `topic()` sees it: Basic Ingest's `$aws/rules/<rule>/` prefix removed."""
    target = split_basic_ingest(topic)
    return target[1] if target else topic


def f_topic(scope: Scope, args: list[Any]) -> Any:
    topic = logical_topic(scope.ctx.topic)
    if not args:
        return topic
    if len(args) != 1:
        return UNDEFINED
    index = to_int(args[0])
    levels = topic.split("/")
    if type(index) is not int or not 1 <= index <= len(levels):
        return UNDEFINED
    return levels[index - 1]


def f_clientid(scope: Scope, args: list[Any]) -> Any:
    return scope.ctx.client_id if scope.ctx.client_id is not None else "n/a"


def f_principal(scope: Scope, args: list[Any]) -> Any:
    return scope.ctx.principal if scope.ctx.principal is not None else UNDEFINED


def f_traceid(scope: Scope, args: list[Any]) -> Any:
    return scope.ctx.trace_id if scope.ctx.trace_id is not None else UNDEFINED


def f_sourceip(scope: Scope, args: list[Any]) -> Any:
    return scope.ctx.source_ip if scope.ctx.source_ip is not None else UNDEFINED


def f_timestamp(scope: Scope, args: list[Any]) -> Any:
    stamp = scope.ctx.timestamp_ms
    return stamp if stamp is not None else scope.ctx.now_ms()


def f_newuuid(scope: Scope, args: list[Any]) -> Any:
    return scope.ctx.new_uuid()


def f_accountid(scope: Scope, args: list[Any]) -> Any:
    return scope.ctx.account_id


def f_sql_version(scope: Scope, args: list[Any]) -> Any:
    return scope.version


def f_get_mqtt_property(scope: Scope, args: list[Any]) -> Any:
    if len(args) != 1 or type(args[0]) is not str:
        return UNDEFINED
    ctx, name = scope.ctx, args[0].lower()
    if name == "content_type":
        return ctx.content_type if ctx.content_type is not None else UNDEFINED
    if name == "format_indicator":
        return "UTF8_DATA" if ctx.payload_format_indicator == 1 else "UNSPECIFIED_BYTES"
    if name == "response_topic":
        return ctx.response_topic if ctx.response_topic is not None else UNDEFINED
    if name == "correlation_data":
        data = ctx.correlation_data
        return base64.b64encode(data).decode("ascii") if data is not None else UNDEFINED
    return UNDEFINED


def f_get_user_properties(scope: Scope, args: list[Any]) -> Any:
    pairs = scope.ctx.user_properties
    if not args:
        return [{k: v} for k, v in pairs] if pairs else UNDEFINED
    key = to_string(args[0]) if len(args) == 1 else UNDEFINED
    if key is UNDEFINED:
        return UNDEFINED
    values = [v for k, v in pairs if k == key]
    return values if values else UNDEFINED


def f_get(_: Scope, args: list[Any]) -> Any:
    if len(args) != 2:
        return UNDEFINED
    collection, key = args
    if type(collection) is dict:
        return collection.get(key, UNDEFINED) if type(key) is str else UNDEFINED
    if type(collection) is list or type(collection) is str:
        index = to_int(key)
        if type(index) is not int or not 0 <= index < len(collection):
            return UNDEFINED
        return collection[index]
    return UNDEFINED


def f_encode(_: Scope, args: list[Any]) -> Any:
    """`encode(value, 'base64')`; the compiler passes the raw payload bytes for `*`."""
    if len(args) != 2 or type(args[1]) is not str or args[1].lower() != "base64":
        return UNDEFINED
    value = args[0]
    if type(value) is bytes:
        return base64.b64encode(value).decode("ascii")
    text = to_string(value)
    return UNDEFINED if text is UNDEFINED else base64.b64encode(text.encode("utf-8")).decode("ascii")


def f_decode(scope: Scope, args: list[Any]) -> Any:
    """`decode(value, 'base64')`: JSON text -> addressable value, other text -> String, bad input -> NULL."""
    if len(args) != 2 or type(args[1]) is not str or args[1].lower() != "base64":
        return UNDEFINED
    text = to_string(args[0])
    if text is UNDEFINED:
        return UNDEFINED
    try:
        decoded = base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return parse_json_text(decoded, scope.version, fallback=decoded)


MAX_JSON_DEPTH = 100
"""Deeper JSON is treated as not JSON (binary). AWS documents no nesting limit; localcore's SQL values are
evaluated recursively, and a payload nested a few hundred levels deep once ended the rule with a
RecursionError instead of running it (or its errorAction)."""


def parse_json_text(text: str | bytes, version: str, fallback: Any) -> Any:
    """JSON text as SQL values (Decimals for fractions, whole numbers Int under 2016-03-23); `fallback` for
    text that is not JSON or is nested deeper than `MAX_JSON_DEPTH`."""
    try:
        if type(text) is bytes:
            text = text.decode("utf-8")
        value = (_DECODER_V1 if version == V1 else _DECODER_V2).decode(text)  # type: ignore[arg-type]
    except (ValueError, RecursionError, DecimalError):
        return fallback
    return fallback if _deeper_than(value, MAX_JSON_DEPTH) else value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict:
            children: Any = item.values()
        elif type(item) is list:
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _v2_decimal(text: str) -> Any:
    return whole_to_int(DECIMAL_CONTEXT.create_decimal(text))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER_V1 = json.JSONDecoder(parse_float=DECIMAL_CONTEXT.create_decimal, parse_constant=_reject_constant)
_DECODER_V2 = json.JSONDecoder(parse_float=_v2_decimal, parse_constant=_reject_constant)


def f_isnull(_: Scope, args: list[Any]) -> Any:
    return len(args) == 1 and args[0] is None


def f_isundefined(_: Scope, args: list[Any]) -> Any:
    return len(args) == 1 and args[0] is UNDEFINED


def f_transform(_: Scope, args: list[Any]) -> Any:
    if len(args) != 3 or args[0] != "enrichArray" or type(args[1]) is not dict or type(args[2]) is not list:
        return UNDEFINED
    return [{**item, **args[1]} for item in args[2] if type(item) is dict]


def cast_value(value: Any, type_name: str, version: str) -> Any:
    """`cast(value AS type)` per the docs' cast tables."""
    if type_name in ("string", "nvarchar", "text", "ntext", "varchar"):
        return to_string(value)
    if type_name in ("bool", "boolean"):
        if type(value) is int or type(value) is Decimal:
            return value != 0
        return to_bool(value)
    if type(value) is bool:
        number: Any = Decimal(int(value))
    else:
        number = to_decimal(value)
        if type(number) is not Decimal:
            return UNDEFINED
    if type_name in ("int", "integer"):
        return floor_int(number) if type(value) is not int else value
    if type_name == "double":
        return from_double(float(number))
    # decimal (2016-03-23 only): whole numbers come back as Int under SQL V2
    return whole_to_int(number)
