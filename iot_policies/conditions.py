"""IAM condition operators as AWS IoT Core policies use them: parse once, evaluate per request.

Semantics (IAM "Condition operators" and "multivalued context keys"):
- keys within one operator, and operators within one Condition block, are ANDed; the values listed for
  one key are ORed. Keys are case-insensitive.
- a missing key makes positive operators false and negated ones (StringNotEquals, StringNotLike,
  ArnNotEquals, ArnNotLike, NumericNotEquals, DateNotEquals, NotIpAddress) true; `...IfExists` makes
  the condition true when the key is missing; `Null` tests presence.
- `ForAnyValue:` holds when some request value matches (false when the key is missing);
  `ForAllValues:` holds when every request value matches (true when the key is missing or empty).
- a condition value whose policy variable has no value matches nothing (so negated operators hold).
- an empty value list is allowed after a set qualifier (AWS's "only default features" connect policy is
  `ForAllValues:StringEquals {"iot:ConnectAttributes": []}`): no request value matches it.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from iot_policies.errors import PolicyDocumentError
from iot_policies.matching import MatchMode, Pattern

Family = Literal["string", "arn", "numeric", "date", "bool", "ip", "null"]
Qualifier = Literal["ForAnyValue", "ForAllValues"]
Lookup = Mapping[str, str]
MultiLookup = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Operator:
    family: Family
    negated: bool = False
    mode: MatchMode = "exact"
    ignore_case: bool = False
    compare: Callable[[float, float], bool] | None = None


def _eq(a: float, b: float) -> bool:
    return a == b


def _lt(a: float, b: float) -> bool:
    return a < b


def _le(a: float, b: float) -> bool:
    return a <= b


def _gt(a: float, b: float) -> bool:
    return a > b


def _ge(a: float, b: float) -> bool:
    return a >= b


OPERATORS: dict[str, _Operator] = {
    "StringEquals": _Operator("string"),
    "StringNotEquals": _Operator("string", negated=True),
    "StringEqualsIgnoreCase": _Operator("string", ignore_case=True),
    "StringNotEqualsIgnoreCase": _Operator("string", negated=True, ignore_case=True),
    "StringLike": _Operator("string", mode="glob"),
    "StringNotLike": _Operator("string", negated=True, mode="glob"),
    "ArnEquals": _Operator("arn", mode="arn"),
    "ArnLike": _Operator("arn", mode="arn"),
    "ArnNotEquals": _Operator("arn", negated=True, mode="arn"),
    "ArnNotLike": _Operator("arn", negated=True, mode="arn"),
    "Bool": _Operator("bool"),
    "IpAddress": _Operator("ip"),
    "NotIpAddress": _Operator("ip", negated=True),
    "Null": _Operator("null"),
}
for _prefix, _family in (("Numeric", "numeric"), ("Date", "date")):
    OPERATORS[f"{_prefix}Equals"] = _Operator(_family, compare=_eq)  # type: ignore[arg-type]
    OPERATORS[f"{_prefix}NotEquals"] = _Operator(_family, negated=True, compare=_eq)  # type: ignore[arg-type]
    for _suffix, _cmp in (
        ("LessThan", _lt),
        ("LessThanEquals", _le),
        ("GreaterThan", _gt),
        ("GreaterThanEquals", _ge),
    ):
        OPERATORS[f"{_prefix}{_suffix}"] = _Operator(_family, compare=_cmp)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Condition:
    """One `Operator: {key: values}` pair of a statement's Condition block."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # e.g. "StringLike"
    qualifier: Qualifier | None
    if_exists: bool
    key: str
    values: tuple[str, ...]
    place: str
    _spec: _Operator = field(repr=False, compare=False)
    _patterns: tuple[Pattern, ...] = field(repr=False, compare=False, default=())
    _numbers: tuple[float, ...] = field(repr=False, compare=False, default=())
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        repr=False, compare=False, default=()
    )

    def holds(self, lookup: Lookup, multi: MultiLookup) -> bool:
        """Does this condition hold for the request (lower-cased key lookups)?"""
        key = self.key.lower()
        present: tuple[str, ...] | None = multi.get(key)
        if present is None:
            single = lookup.get(key)
            present = None if single is None else (single,)
        spec = self._spec
        if spec.family == "null":
            return (present is None) == (self.values[0] == "true")
        if present is None or (not present and self.qualifier is None):
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            return spec.negated and self.qualifier is None
        if self.qualifier == "ForAllValues":
            return all(self._matches(value, lookup) != spec.negated for value in present)
        if self.qualifier == "ForAnyValue":
            return any(self._matches(value, lookup) != spec.negated for value in present)
        hit = any(self._matches(value, lookup) for value in present)
        return hit != spec.negated

    def _matches(self, value: str, lookup: Lookup) -> bool:
        """The positive form of the operator for one request value, ORed over the condition's values."""
        family = self._spec.family
        if family in ("string", "arn"):
            return any(pattern.matches(value, lookup) for pattern in self._patterns)
        if family == "bool":
            return value.lower() in self.values
        if family == "ip":
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                return False
            return any(address in network for network in self._networks)
        number = _parse_number(value) if family == "numeric" else _parse_date(value)
        compare = self._spec.compare
        return number is not None and compare is not None and any(compare(number, v) for v in self._numbers)


def _parse_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_date(text: str) -> float | None:
    """ISO 8601 (naive means UTC) or epoch seconds, as epoch seconds."""
    epoch = _parse_number(text)
    if epoch is not None:
        return epoch
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def split_operator(name: str, place: str) -> tuple[str, Qualifier | None, bool]:
    """`ForAnyValue:StringLikeIfExists` -> ("StringLike", "ForAnyValue", True); unknown -> error."""
    qualifier: Qualifier | None = None
    base = name
    for prefix in ("ForAnyValue", "ForAllValues"):
        if name.startswith(prefix + ":"):
            qualifier = prefix
            base = name[len(prefix) + 1 :]
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in OPERATORS:
        raise PolicyDocumentError(f"unknown condition operator {name!r}", place)
    if base == "Null" and (if_exists or qualifier):
        raise PolicyDocumentError(f"{name!r}: Null takes no IfExists suffix or set qualifier", place)
    return base, qualifier, if_exists


def _value_text(value: Any, place: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise PolicyDocumentError(f"condition values must be strings, numbers or booleans, not {value!r}", place)


def parse_conditions(block: Any, place: str, *, variables: bool) -> tuple[Condition, ...]:
    """Parse a statement's `Condition` object."""
    if not isinstance(block, Mapping):
        raise PolicyDocumentError("Condition must be an object of operator -> {key: value(s)}", place)
    conditions: list[Condition] = []
    for operator, entries in block.items():
        op_place = f"{place}.{operator}"
        base, qualifier, if_exists = split_operator(str(operator), op_place)
        if not isinstance(entries, Mapping) or not entries:
            raise PolicyDocumentError("operator must map to a non-empty object of key -> value(s)", op_place)
        for key, raw in entries.items():
            key_place = f"{op_place}.{key}"
            items: Sequence[Any] = raw if isinstance(raw, list) else [raw]
            if not items and (qualifier is None or base == "Null"):
                raise PolicyDocumentError(
                    "a condition key needs at least one value (an empty list is a condition set only "
                    "after ForAllValues: or ForAnyValue:)",
                    key_place,
                )
            values = tuple(_value_text(item, key_place) for item in items)
            conditions.append(
                _build(str(operator), base, qualifier, if_exists, str(key), values, key_place, variables)
            )
    return tuple(conditions)


def _build(
    operator: str,
    base: str,
    qualifier: Qualifier | None,
    if_exists: bool,
    key: str,
    values: tuple[str, ...],
    place: str,
    variables: bool,
) -> Condition:
    spec = OPERATORS[base]
    common: dict[str, Any] = {
        "operator": operator,
        "base": base,
        "qualifier": qualifier,
        "if_exists": if_exists,
        "key": key,
        "place": place,
        "_spec": spec,
    }
    if spec.family in ("string", "arn"):
        patterns = tuple(
            Pattern.parse(v, spec.mode, variables=variables, ignore_case=spec.ignore_case, place=place)
            for v in values
        )
        return Condition(values=values, _patterns=patterns, **common)
    if spec.family in ("bool", "null"):
        lowered = tuple(v.lower() for v in values)
        if any(v not in ("true", "false") for v in lowered):
            raise PolicyDocumentError(f"{base} values must be true or false, not {values!r}", place)
        if spec.family == "null" and len(lowered) != 1:
            raise PolicyDocumentError("Null takes exactly one value", place)
        return Condition(values=lowered, **common)
    if spec.family == "ip":
        try:
            networks = tuple(ipaddress.ip_network(v, strict=False) for v in values)
        except ValueError as error:
            raise PolicyDocumentError(f"not an IP address or CIDR range: {error}", place) from None
        return Condition(values=values, _networks=networks, **common)
    parse = _parse_number if spec.family == "numeric" else _parse_date
    numbers = tuple(parse(v) for v in values)
    if any(n is None for n in numbers):
        raise PolicyDocumentError(f"{base} needs {spec.family} values, not {values!r}", place)
    return Condition(values=values, _numbers=tuple(n for n in numbers if n is not None), **common)
