"""Policy variables and IAM-style glob matching, compiled once and cached.

Rules (AWS IoT Core follows IAM, see docs/policies.md):
- `*` matches any run of characters (also `/` and `:`), `?` exactly one character; everything else is
  literal, MQTT `+` and `#` included. Matching is case-sensitive unless a pattern says otherwise.
- `${key}` is replaced by the request-context value of `key` (keys are case-insensitive); the value is
  literal text, never a wildcard. `${*}`, `${?}`, `${$}` are a literal `*`, `?`, `$`.
  `${key, 'default'}` uses `default` when the key is missing (IAM syntax).
- A pattern whose variable has no value resolves to nothing: it matches no value at all.
- ARN patterns (Resource, ArnLike) are matched field by field like IAM: in the first five colon-separated
  fields (`arn:partition:service:region:account`) a wildcard stays inside its field; in the resource part
  (everything after the fifth colon, which may itself hold colons, e.g. a Cognito identity id) it runs free.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from iot_policies.errors import PolicyDocumentError

MatchMode = Literal["glob", "arn", "exact"]
Matcher = Callable[[str], object]  # truthy when the value matches

_KEY_RE = re.compile(r"[A-Za-z0-9_.:\-\[\]/]+")
_DEFAULT_RE = re.compile(r"\s*([^,\s]+)\s*,\s*'([^']*)'\s*")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_ARN_FIXED_FIELDS = 5  # arn:partition:service:region:account, then the free-form resource part
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Text:
    """Pattern text in which `*` and `?` are wildcards (in `exact` mode they are literal)."""

    text: str


@dataclass(frozen=True)
class Escaped:
    """A literal character written as `${*}`, `${?}` or `${$}`."""

    char: str


@dataclass(frozen=True)
class Variable:
    """`${key}`: replaced by the request-context value (key stored lower-case)."""

    key: str
    default: str | None = None


Part = Text | Escaped | Variable


def parse_template(source: str, *, variables: bool = True, place: str = "") -> tuple[Part, ...]:
    """Split `source` into text, escapes and variables; with `variables=False` (Version 2008-10-17)
    `${...}` is plain text."""
    if not variables or "${" not in source:
        return (Text(source),) if source else ()
    parts: list[Part] = []
    position = 0
    while True:
        start = source.find("${", position)
        if start < 0:
            break
        end = source.find("}", start + 2)
        if end < 0:
            raise PolicyDocumentError(f"unterminated policy variable in {source!r}", place)
        if start > position:
            parts.append(Text(source[position:start]))
        parts.append(_parse_variable(source[start + 2 : end], source, place))
        position = end + 1
    if position < len(source):
        parts.append(Text(source[position:]))
    return tuple(parts)


def _parse_variable(body: str, source: str, place: str) -> Part:
    if body in _ESCAPES:
        return Escaped(_ESCAPES[body])
    with_default = _DEFAULT_RE.fullmatch(body)
    key, default = (with_default.group(1), with_default.group(2)) if with_default else (body.strip(), None)
    if not _KEY_RE.fullmatch(key):
        raise PolicyDocumentError(f"invalid policy variable ${{{body}}} in {source!r}", place)
    return Variable(key.lower(), default)


def glob_regex(text: str, *, arn_field: int | None = None, last_field: int = 0) -> str:
    """Regex source for glob `text`. With `arn_field` (the ARN field where `text` starts), a wildcard
    before field 5, other than in the pattern's last field, does not cross `:`."""
    if arn_field is None:
        return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    out: list[str] = []
    field = arn_field
    for char in text:
        free = field >= _ARN_FIXED_FIELDS or field == last_field
        if char == "*":
            out.append(".*" if free else "[^:]*")
        elif char == "?":
            out.append("." if free else "[^:]")
        else:
            if char == ":":
                field += 1
            out.append(re.escape(char))
    return "".join(out)


@functools.lru_cache(maxsize=_CACHE_LIMIT)
def _compile(regex: str, ignore_case: bool) -> Matcher:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(regex, flags).fullmatch


def _always(_: str) -> bool:
    return True


class Pattern:
    """One Resource / condition value, ready to match many requests fast.

    Without variables the matcher is built once. With variables it is built per distinct set of values
    and cached (a connection's identity and client id repeat on every publish and delivery).
    """

    __slots__ = ("_cache", "_static", "_variable", "ignore_case", "keys", "mode", "parts", "source")

    def __init__(
        self, source: str, parts: tuple[Part, ...], mode: MatchMode, ignore_case: bool = False
    ) -> None:
        self.source = source
        self.parts = parts
        self.mode: MatchMode = mode
        self.ignore_case = ignore_case
        self.keys = tuple(part.key for part in parts if isinstance(part, Variable))
        variables = [part for part in parts if isinstance(part, Variable)]
        self._variable = variables[0] if len(variables) == 1 else None
        self._cache: dict[str | tuple[str, ...], Matcher] = {}
        self._static: Matcher | None = None if self.keys else self._build(())

    @classmethod
    def parse(
        cls,
        source: str,
        mode: MatchMode,
        *,
        variables: bool = True,
        ignore_case: bool = False,
        place: str = "",
    ) -> Pattern:
        return cls(source, parse_template(source, variables=variables, place=place), mode, ignore_case)

    def matcher(self, lookup: Mapping[str, str]) -> Matcher | None:
        """The matcher for this request's variables; None if a variable has no value (matches nothing)."""
        if self._static is not None:
            return self._static
        variable = self._variable
        if variable is not None:  # the common case: one variable, keyed by its value alone
            single = lookup.get(variable.key, variable.default)
            if single is None:
                return None
            hit = self._cache.get(single)
            if hit is None:
                hit = self._remember(single, (single,))
            return hit
        values = []
        for part in self.parts:
            if isinstance(part, Variable):
                value = lookup.get(part.key, part.default)
                if value is None:
                    return None
                values.append(value)
        key = tuple(values)
        found = self._cache.get(key)
        if found is None:
            found = self._remember(key, key)
        return found

    def _remember(self, key: str | tuple[str, ...], values: tuple[str, ...]) -> Matcher:
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        built = self._cache[key] = self._build(values)
        return built

    def matches(self, value: str, lookup: Mapping[str, str]) -> bool:
        match = self.matcher(lookup)
        return match is not None and bool(match(value))

    def resolve(self, lookup: Mapping[str, str]) -> str | None:
        """The pattern text with variables and escapes substituted (wildcards kept), or None."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Text):
                out.append(part.text)
            elif isinstance(part, Escaped):
                out.append(part.char)
            else:
                value = lookup.get(part.key, part.default)
                if value is None:
                    return None
                out.append(value)
        return "".join(out)

    def _build(self, values: tuple[str, ...]) -> Matcher:
        pieces: list[tuple[str, bool]] = []  # (text, wildcards active)
        it = iter(values)
        for part in self.parts:
            if isinstance(part, Text):
                pieces.append((part.text, self.mode != "exact"))
            elif isinstance(part, Escaped):
                pieces.append((part.char, False))
            else:
                pieces.append((next(it), False))
        if not any(active and ("*" in text or "?" in text) for text, active in pieces):
            literal = "".join(text for text, _ in pieces)
            if self.ignore_case:
                folded = literal.casefold()
                return lambda value: value.casefold() == folded
            return literal.__eq__
        if self.mode != "exact" and pieces == [("*", True)]:
            return _always
        return _compile(self._regex(pieces), self.ignore_case)

    def _regex(self, pieces: list[tuple[str, bool]]) -> str:
        if self.mode != "arn":
            return "".join(glob_regex(text) if active else re.escape(text) for text, active in pieces)
        last_field = sum(text.count(":") for text, _ in pieces)
        out: list[str] = []
        field = 0
        for text, active in pieces:
            out.append(
                glob_regex(text, arn_field=field, last_field=last_field) if active else re.escape(text)
            )
            field += text.count(":")
        return "".join(out)


def glob_match(pattern: str, value: str) -> bool:
    """Plain IAM glob match of `value` against `pattern` (no variables, no ARN fields)."""
    return Pattern(pattern, (Text(pattern),) if pattern else (), "glob").matches(value, {})
