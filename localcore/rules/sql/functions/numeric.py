"""Numeric functions (iot-sql-functions.html) and the arithmetic operators they share."""

from __future__ import annotations

import decimal
import math
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from localcore.rules.sql.values import (
    DECIMAL_CONTEXT,
    UNDEFINED,
    DecimalError,
    floor_int,
    from_double,
    to_decimal,
    to_string,
)


def _numeric_pair(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both as Int when both are Int; otherwise both as Decimal (strings converted); None if impossible."""
    if type(left) is int and type(right) is int:
        return left, right
    a, b = to_decimal(left), to_decimal(right)
    if type(a) is not Decimal or type(b) is not Decimal:
        return None
    return a, b


def add(left: Any, right: Any) -> Any:
    """`+`: string concatenation if either side is a String, else Int/Decimal addition."""
    lt, rt = type(left), type(right)
    if lt is str or rt is str:
        a, b = to_string(left), to_string(right)
        return UNDEFINED if a is UNDEFINED or b is UNDEFINED else a + b
    if lt is int and rt is int:
        return left + right
    if (lt is int or lt is Decimal) and (rt is int or rt is Decimal):
        try:
            return DECIMAL_CONTEXT.add(Decimal(left), Decimal(right))
        except DecimalError:
            return UNDEFINED
    return UNDEFINED


def subtract(left: Any, right: Any) -> Any:
    pair = _numeric_pair(left, right)
    if pair is None:
        return UNDEFINED
    a, b = pair
    if type(a) is int:
        return a - b
    try:
        return DECIMAL_CONTEXT.subtract(a, b)
    except DecimalError:
        return UNDEFINED


def multiply(left: Any, right: Any) -> Any:
    pair = _numeric_pair(left, right)
    if pair is None:
        return UNDEFINED
    a, b = pair
    if type(a) is int:
        return a * b
    try:
        return DECIMAL_CONTEXT.multiply(a, b)
    except DecimalError:
        return UNDEFINED


def divide(left: Any, right: Any) -> Any:
    """Int / Int truncates toward zero (Java BigInteger); division by zero is Undefined."""
    pair = _numeric_pair(left, right)
    if pair is None:
        return UNDEFINED
    a, b = pair
    if b == 0:
        return UNDEFINED
    if type(a) is int:
        quotient = abs(a) // abs(b)
        return quotient if (a >= 0) == (b >= 0) else -quotient
    try:
        return DECIMAL_CONTEXT.divide(a, b)
    except DecimalError:
        return UNDEFINED


def remainder(left: Any, right: Any) -> Any:
    """`%`, mod(), remainder(): the sign follows the dividend (Java remainder); by zero is Undefined."""
    pair = _numeric_pair(left, right)
    if pair is None:
        return UNDEFINED
    a, b = pair
    if b == 0:
        return UNDEFINED
    if type(a) is int:
        rest = abs(a) % abs(b)
        return rest if a >= 0 else -rest
    try:
        return DECIMAL_CONTEXT.remainder(a, b)
    except DecimalError:
        return UNDEFINED


def negate(value: Any) -> Any:
    if type(value) is int:
        return -value
    number = to_decimal(value)
    return -number if type(number) is Decimal else UNDEFINED


def compare(left: Any, right: Any) -> int | None:
    """Both sides as Decimal; None when either cannot be converted."""
    if type(left) is int and type(right) is int:
        return (left > right) - (left < right)
    a, b = to_decimal(left), to_decimal(right)
    if type(a) is not Decimal or type(b) is not Decimal:
        return None
    return (a > b) - (a < b)


# -- functions --------------------------------------------------------------------------------------


def _one_decimal(args: list[Any]) -> Decimal | None:
    if len(args) != 1:
        return None
    number = to_decimal(args[0])
    return number if type(number) is Decimal else None


def f_abs(_: Any, args: list[Any]) -> Any:
    if len(args) == 1 and type(args[0]) is int:
        return abs(args[0])
    number = _one_decimal(args)
    return UNDEFINED if number is None else abs(number)


def _rounder(mode: str) -> Callable[[Any, list[Any]], Any]:
    def rounded(_: Any, args: list[Any]) -> Any:
        if len(args) == 1 and type(args[0]) is int:
            return args[0]
        number = _one_decimal(args)
        return UNDEFINED if number is None else int(number.to_integral_value(rounding=mode))

    return rounded


f_ceil = _rounder(decimal.ROUND_CEILING)
f_floor = _rounder(decimal.ROUND_FLOOR)
f_round = _rounder(decimal.ROUND_HALF_UP)  # docs: round(1.5) = 2, round(-1.5) = -2


def f_sign(_: Any, args: list[Any]) -> Any:
    number = _one_decimal(args)
    return UNDEFINED if number is None else (number > 0) - (number < 0)


def f_mod(_: Any, args: list[Any]) -> Any:
    return remainder(args[0], args[1]) if len(args) == 2 else UNDEFINED


MAX_TRUNC_PLACES = 34
"""trunc(): "If the second argument is greater than 34, it is set to 34" (iot-sql-functions.html)."""


def f_trunc(_: Any, args: list[Any]) -> Any:
    if len(args) != 2:
        return UNDEFINED
    if type(args[0]) is int and type(args[1]) is int:
        return args[0]
    number, places = to_decimal(args[0]), floor_int(args[1])
    if type(number) is not Decimal or type(places) is not int:
        return UNDEFINED
    places = max(0, min(MAX_TRUNC_PLACES, places))
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or Infinity
        return UNDEFINED
    cut = number
    if exponent < -places:
        # Cutting digits off never needs more precision than the number already has: quantize with
        # exactly that much, so 12.5 at 33 places is 12.5 rather than a 35-digit overflow.
        digits = max(1, number.adjusted() + places + 1)
        cut = number.quantize(
            Decimal(1).scaleb(-places), rounding=decimal.ROUND_DOWN, context=decimal.Context(prec=digits)
        )
    whole = cut.to_integral_value()
    if cut == whole:  # "trailing zeros are removed"; -0 becomes 0 as in Java's BigDecimal
        return Decimal(int(whole)) if whole.adjusted() < DECIMAL_CONTEXT.prec else whole
    return cut.normalize(DECIMAL_CONTEXT)


def f_nanvl(_: Any, args: list[Any]) -> Any:
    if len(args) != 2:
        return UNDEFINED
    first = args[0]
    if first is UNDEFINED or first is None or (type(first) is Decimal and first.is_nan()):
        return args[1]
    return first


def f_rand(_: Any, args: list[Any]) -> Any:
    return from_double(random.random()) if not args else UNDEFINED


def _double(fn: Callable[..., float], arity: int = 1) -> Callable[[Any, list[Any]], Any]:
    """A function computed in double precision, per the docs ("rounded to double precision")."""

    def compute(_: Any, args: list[Any]) -> Any:
        if len(args) != arity:
            return UNDEFINED
        numbers = [to_decimal(a) for a in args]
        if any(type(n) is not Decimal for n in numbers):
            return UNDEFINED
        try:
            return from_double(fn(*(float(n) for n in numbers)))
        except (ValueError, OverflowError, ZeroDivisionError):
            return UNDEFINED

    return compute


def _power(base: float, exponent: float) -> float:
    return math.pow(base, exponent)


DOUBLE_FUNCTIONS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "acos": _double(math.acos),
    "asin": _double(math.asin),
    "atan": _double(math.atan),
    "atan2": _double(math.atan2, 2),
    "cos": _double(math.cos),
    "cosh": _double(math.cosh),
    "sin": _double(math.sin),
    "sinh": _double(math.sinh),
    "tan": _double(math.tan),
    "tanh": _double(math.tanh),
    "exp": _double(math.exp),
    "ln": _double(math.log),
    "log": _double(math.log10),
    "sqrt": _double(math.sqrt),
    "power": _double(_power, 2),
}


def _bitwise(op: Callable[[int, int], int]) -> Callable[[Any, list[Any]], Any]:
    def compute(_: Any, args: list[Any]) -> Any:
        if len(args) != 2:
            return UNDEFINED
        a, b = floor_int(args[0]), floor_int(args[1])
        if type(a) is not int or type(b) is not int:
            return UNDEFINED
        return op(a, b)

    return compute


f_bitand = _bitwise(lambda a, b: a & b)
f_bitor = _bitwise(lambda a, b: a | b)
f_bitxor = _bitwise(lambda a, b: a ^ b)


def f_bitnot(_: Any, args: list[Any]) -> Any:
    value = floor_int(args[0]) if len(args) == 1 else UNDEFINED
    return ~value if type(value) is int else UNDEFINED
