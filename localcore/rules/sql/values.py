"""AWS IoT SQL values: the Undefined sentinel, type names, implicit conversions and JSON output.

Python representation: Int = `int`, Decimal = `decimal.Decimal`, Boolean = `bool`, String = `str`,
Array = `list`, Object = `dict`, Null = `None`, Undefined = `UNDEFINED`, and a non-JSON payload
selected with `*` = `bytes`. Conversions follow the tables of `iot-sql-data-types.html`.
"""

from __future__ import annotations

import decimal
import json
import json.encoder
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

V1: Final = "2015-10-08"
V2: Final = "2016-03-23"
BETA: Final = "beta"
VERSIONS: Final = (V1, V2, BETA)


class _Undefined:
    """AWS's `Undefined`: not a value; left out of objects, an empty string on its own."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()

# 34 significant digits, magnitudes 1E-999 .. 9.999E999 (iot-sql-data-types.html); errors become Undefined.
DECIMAL_CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=999,
    Emin=-999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
DecimalError = decimal.DecimalException

# The docs' regex ^-?\d+(\.\d+)?((?i)E-?\d+)?$ (Java's \d is ASCII-only).
_NUMERIC = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE]-?[0-9]+)?\Z")

_TYPE_NAMES: Final[dict[type, str]] = {
    bool: "Boolean",
    int: "Int",
    Decimal: "Decimal",
    str: "String",
    list: "Array",
    dict: "Object",
    type(None): "Null",
    _Undefined: "Undefined",
    bytes: "Binary",
}


def type_name(value: Any) -> str:
    """The AWS type name of a value ("Int", "Decimal", ... "Undefined")."""
    return _TYPE_NAMES.get(type(value), "Undefined")


def parse_decimal_string(text: str) -> Decimal | None:
    """A string matching the docs' numeric regex as a Decimal, else None."""
    if _NUMERIC.match(text) is None:
        return None
    try:
        return DECIMAL_CONTEXT.create_decimal(text)
    except DecimalError:
        return None


def to_decimal(value: Any) -> Any:
    """Implicit conversion to Decimal: numbers and numeric strings; Null stays Null; else Undefined."""
    t = type(value)
    if t is Decimal:
        return value
    if t is int:
        return Decimal(value)
    if t is str:
        parsed = parse_decimal_string(value)
        return UNDEFINED if parsed is None else parsed
    if value is None:
        return None
    return UNDEFINED


def to_int(value: Any) -> Any:
    """Implicit conversion to Int: Decimal rounds to nearest, numeric strings truncate; Null stays Null."""
    t = type(value)
    if t is int:
        return value
    if t is Decimal:
        return int(value.to_integral_value(rounding=decimal.ROUND_HALF_UP))
    if t is str:
        parsed = parse_decimal_string(value)
        return UNDEFINED if parsed is None else int(parsed)
    if value is None:
        return None
    return UNDEFINED


def floor_int(value: Any) -> Any:
    """Convert to Decimal and round down to an Int (the rule many functions use); else Undefined."""
    number = to_decimal(value)
    if type(number) is not Decimal:
        return UNDEFINED
    return int(number.to_integral_value(rounding=decimal.ROUND_FLOOR))


def to_bool(value: Any) -> Any:
    """Implicit conversion to Boolean: booleans and the strings "true"/"false" (any case)."""
    if type(value) is bool:
        return value
    if type(value) is str:
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return UNDEFINED


def to_string(value: Any) -> Any:
    """Implicit conversion to String; Null and Undefined (and raw bytes) give Undefined."""
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is Decimal:
        return decimal_text(value)
    if t is list or t is dict:
        return to_json(value)
    return UNDEFINED


def decimal_text(value: Decimal) -> str:
    """Decimal printed like Java's BigDecimal.toString (same scientific-notation rule as Python's)."""
    return str(value)


def from_double(result: float) -> Any:
    """A double-precision function result as a Decimal (Java's shortest repr); NaN/Infinity -> Undefined."""
    if math.isnan(result) or math.isinf(result):
        return UNDEFINED
    return Decimal(repr(result))


def whole_to_int(value: Any) -> Any:
    """SQL 2016-03-23 quirk: whole-number Decimals such as 10.0 are processed as Int 10."""
    if type(value) is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


def sql_equals(left: Any, right: Any) -> Any:
    """The `=` operator: Undefined if either side is Undefined; mismatched types are simply unequal."""
    if left is UNDEFINED or right is UNDEFINED:
        return UNDEFINED
    return _equal(left, right)


def _equal(left: Any, right: Any) -> bool:
    lt, rt = type(left), type(right)
    if (lt is int or lt is Decimal) and (rt is int or rt is Decimal):
        return bool(left == right)
    if lt is not rt:
        return False
    if lt is list:
        return len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right, strict=True))
    if lt is dict:
        return left.keys() == right.keys() and all(_equal(v, right[k]) for k, v in left.items())
    return bool(left == right)


_encode_string: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.encode_basestring
)


def to_json(value: Any) -> str:
    """Serialise like AWS: compact, Undefined members left out, a bare Undefined as the empty string."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value: Any, out: list[str]) -> None:
    t = type(value)
    if t is dict:
        out.append("{")
        first = True
        for key, item in value.items():
            kind = type(item)
            if item is UNDEFINED or kind is bytes:
                continue
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            if kind is str:  # leaves inline: this loop is the hot path of every rule output
                out.append(_encode_string(item))
            elif kind is int or kind is Decimal:
                out.append(str(item))
            else:
                _write(item, out)
        out.append("}")
    elif t is list:
        out.append("[")
        first = True
        for item in value:
            if item is UNDEFINED or type(item) is bytes:
                continue
            if not first:
                out.append(",")
            first = False
            _write(item, out)
        out.append("]")
    elif t is str:
        out.append(_encode_string(value))
    elif t is bool:
        out.append("true" if value else "false")
    elif t is int or t is Decimal:
        out.append(str(value))
    elif value is None:
        out.append("null")


def to_python(value: Any) -> Any:
    """A JSON-serialisable Python copy: Decimal -> int/float, Undefined members dropped (bare -> None)."""
    t = type(value)
    if t is dict:
        return {k: to_python(v) for k, v in value.items() if v is not UNDEFINED and type(v) is not bytes}
    if t is list:
        return [to_python(v) for v in value if v is not UNDEFINED and type(v) is not bytes]
    if t is Decimal:
        return int(value) if value == value.to_integral_value() and "E" not in str(value) else float(value)
    if value is UNDEFINED:
        return None
    return value
