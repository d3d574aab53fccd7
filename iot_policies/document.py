"""Parse and validate IoT (and IAM identity) policy documents into frozen, precompiled dataclasses.

Grammar (`iot-policies.html`, IAM JSON policy reference): `Version` ("2012-10-17", or "2008-10-17" where
`${...}` is literal text; a missing Version means 2008-10-17, as in IAM), optional `Id`, `Statement` (one
object or an array). A statement has an optional alphanumeric `Sid`, `Effect` Allow|Deny, exactly one of
`Action`/`NotAction` and one of `Resource`/`NotResource` (a string or array), and an optional
`Condition`. At most 2048 characters not counting whitespace. Errors name their place, e.g.
`Statement[1].Effect`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from iot_policies.conditions import Condition, Lookup, MultiLookup, parse_conditions
from iot_policies.errors import PolicyDocumentError
from iot_policies.matching import Matcher, Pattern, glob_regex

MAX_POLICY_CHARS = 2048
MAX_NESTING = 32  # a valid policy nests 6 levels; deeper JSON is refused before it reaches the decoder
_ACTION_CACHE_LIMIT = 256
VERSIONS = ("2012-10-17", "2008-10-17")
Effect = Literal["Allow", "Deny"]

_DOCUMENT_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
_ACTION_RE = re.compile(r"\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_SID_RE = re.compile(r"[A-Za-z0-9]*")
_WHITESPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Statement:
    """One statement, with its action and resource matchers compiled."""

    index: int
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...] = ()
    _action_names: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _action_match: Matcher | None = field(default=None, repr=False, compare=False)
    _patterns: tuple[Pattern, ...] = field(default=(), repr=False, compare=False)

    @property
    def label(self) -> str:
        """`Statement[2] (Sid DenyOthers)`."""
        return f"Statement[{self.index}]" + (f" (Sid {self.sid})" if self.sid else "")

    def matches_action(self, action: str) -> bool:
        """Action names are case-insensitive (IAM); `action` must already be lower-case."""
        hit = action in self._action_names or (
            self._action_match is not None and bool(self._action_match(action))
        )
        return hit != self.not_action

    def matches_resource(self, resource: str, lookup: Lookup) -> bool:
        hit = False
        for pattern in self._patterns:
            if pattern.matches(resource, lookup):
                hit = True
                break
        return hit != self.not_resource

    def conditions_hold(self, lookup: Lookup, multi: MultiLookup) -> bool:
        return all(condition.holds(lookup, multi) for condition in self.conditions)

    def covers(self, resource: str, lookup: Lookup, multi: MultiLookup) -> bool:
        """Resource and conditions match (the action was already checked)."""
        return self.matches_resource(resource, lookup) and (
            not self.conditions or self.conditions_hold(lookup, multi)
        )


@dataclass(frozen=True)
class PolicyDocument:
    """A validated policy: `name` is how decisions refer to it."""

    name: str
    version: str
    statements: tuple[Statement, ...]
    size: int  # characters, not counting whitespace
    id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    denies: tuple[Statement, ...] = field(default=(), repr=False, compare=False)
    allows: tuple[Statement, ...] = field(default=(), repr=False, compare=False)
    _by_action: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    def candidates(self, action: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """(Deny, Allow) statements whose Action/NotAction covers lower-case `action`, cached per action."""
        found = self._by_action.get(action)
        if found is None:
            found = (
                tuple(s for s in self.denies if s.matches_action(action)),
                tuple(s for s in self.allows if s.matches_action(action)),
            )
            if len(self._by_action) < _ACTION_CACHE_LIMIT:
                self._by_action[action] = found
        return found

    @property
    def variables_enabled(self) -> bool:
        return self.version == "2012-10-17"

    @property
    def variable_keys(self) -> frozenset[str]:
        """Every `${key}` (lower-case) its resources and conditions use: a request without a value for
        one of them makes that resource or condition value match nothing."""
        patterns = [p for s in self.statements for p in s._patterns]
        patterns += [p for s in self.statements for c in s.conditions for p in c._patterns]
        return frozenset(key for pattern in patterns for key in pattern.keys)

    def to_json(self) -> str:
        return json.dumps(self.raw, indent=2)


def policy_size(text: str) -> int:
    """Characters that count against the 2048 limit: all but whitespace."""
    return len(_WHITESPACE_RE.sub("", text))


def parse_policy(source: str | Mapping[str, Any], name: str = "") -> PolicyDocument:
    """Parse JSON text or an already-decoded mapping; raise PolicyDocumentError with the offending place."""
    try:
        return _parse(source, name)
    except PolicyDocumentError as error:
        if error.policy or not name:
            raise
        raise PolicyDocumentError(error.message, error.place, name) from None


def _too_deep(text: str) -> str | None:
    """Where the first `[` or `{` nested deeper than MAX_NESTING is ("line L, column C"); strings skipped."""
    depth, line, line_start, in_string, escaped = 0, 1, 0, False, False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return f"line {line}, column {index - line_start + 1}"
        elif char in "]}":
            depth -= 1
        elif char == "\n":
            line, line_start = line + 1, index + 1
    return None


def _parse(source: str | Mapping[str, Any], name: str) -> PolicyDocument:
    too_deep = f"JSON nested more than {MAX_NESTING} levels deep"
    if isinstance(source, str):
        text = source
    else:
        try:
            text = json.dumps(source, separators=(",", ":"))
        except RecursionError:
            raise PolicyDocumentError(too_deep, "(document)") from None
        except (TypeError, ValueError) as error:
            raise PolicyDocumentError(f"not JSON-serialisable: {error}", "(document)") from None
    size = policy_size(text)
    if size > MAX_POLICY_CHARS:
        raise PolicyDocumentError(
            f"{size} characters (not counting whitespace) exceeds the limit of {MAX_POLICY_CHARS}",
            "(document)",
        )
    where = _too_deep(text)
    if where is not None:
        raise PolicyDocumentError(f"{too_deep} ({where})", "(document)")
    raw: Any = source
    if isinstance(source, str):
        try:
            raw = json.loads(source)
        except json.JSONDecodeError as error:
            raise PolicyDocumentError(
                f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})", "(document)"
            ) from None
    if not isinstance(raw, Mapping):
        raise PolicyDocumentError("a policy document must be a JSON object", "(document)")
    for key in raw:
        if key not in _DOCUMENT_KEYS:
            raise PolicyDocumentError(
                f"unknown top-level element (allowed: {', '.join(sorted(_DOCUMENT_KEYS))})", key
            )
    version = raw.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyDocumentError(f"Version must be one of {', '.join(VERSIONS)}, not {version!r}", "Version")
    policy_id = raw.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyDocumentError("Id must be a string", "Id")
    if "Statement" not in raw:
        raise PolicyDocumentError("missing Statement", "Statement")
    body = raw["Statement"]
    if isinstance(body, Mapping):
        entries: list[tuple[str, Any]] = [("Statement", body)]
    elif isinstance(body, list) and body:
        entries = [(f"Statement[{i}]", item) for i, item in enumerate(body)]
    else:
        raise PolicyDocumentError("Statement must be an object or a non-empty array of objects", "Statement")
    variables = version == "2012-10-17"
    statements = tuple(_statement(i, place, item, variables) for i, (place, item) in enumerate(entries))
    sids = [s.sid for s in statements if s.sid]
    for sid in sids:
        if sids.count(sid) > 1:
            raise PolicyDocumentError(f"duplicate Sid {sid!r}", "Statement")
    return PolicyDocument(
        name=name,
        version=version,
        statements=statements,
        size=size,
        id=policy_id,
        raw=raw,
        denies=tuple(s for s in statements if s.effect == "Deny"),
        allows=tuple(s for s in statements if s.effect == "Allow"),
    )


def _strings(value: Any, place: str) -> tuple[str, ...]:
    items: Sequence[Any] = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyDocumentError(
            "must be a non-empty string or a non-empty array of non-empty strings", place
        )
    return tuple(items)


def _one_of(statement: Mapping[str, Any], keys: tuple[str, str], place: str) -> str:
    present = [key for key in keys if key in statement]
    if len(present) != 1:
        raise PolicyDocumentError(f"exactly one of {keys[0]} or {keys[1]} is required", place)
    return present[0]


def _statement(index: int, place: str, statement: Any, variables: bool) -> Statement:
    if not isinstance(statement, Mapping):
        raise PolicyDocumentError("a statement must be a JSON object", place)
    for key in statement:
        if key in ("Principal", "NotPrincipal"):
            raise PolicyDocumentError(
                "Principal is not allowed in an IoT or identity policy", f"{place}.{key}"
            )
        if key not in _STATEMENT_KEYS:
            raise PolicyDocumentError("unknown statement element", f"{place}.{key}")
    sid = statement.get("Sid")
    if sid is not None and (not isinstance(sid, str) or not _SID_RE.fullmatch(sid)):
        raise PolicyDocumentError("Sid must be a string of ASCII letters and digits", f"{place}.Sid")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyDocumentError(f"Effect must be 'Allow' or 'Deny', not {effect!r}", f"{place}.Effect")
    action_key = _one_of(statement, ("Action", "NotAction"), place)
    actions = _strings(statement[action_key], f"{place}.{action_key}")
    for i, action in enumerate(actions):
        if not _ACTION_RE.fullmatch(action):
            raise PolicyDocumentError(
                f"invalid action {action!r} (expected 'service:Name', e.g. 'iot:Publish', or '*')",
                f"{place}.{action_key}" + (f"[{i}]" if isinstance(statement[action_key], list) else ""),
            )
    resource_key = _one_of(statement, ("Resource", "NotResource"), place)
    resources = _strings(statement[resource_key], f"{place}.{resource_key}")
    patterns = []
    for i, resource in enumerate(resources):
        item_place = f"{place}.{resource_key}" + (
            f"[{i}]" if isinstance(statement[resource_key], list) else ""
        )
        if resource != "*" and not resource.startswith("arn:"):
            raise PolicyDocumentError(f"a resource must be an ARN or '*', not {resource!r}", item_place)
        patterns.append(Pattern.parse(resource, "arn", variables=variables, place=item_place))
    conditions: tuple[Condition, ...] = ()
    if "Condition" in statement:
        conditions = parse_conditions(statement["Condition"], f"{place}.Condition", variables=variables)
    exact = frozenset(a.lower() for a in actions if "*" not in a and "?" not in a)
    wild = [a.lower() for a in actions if "*" in a or "?" in a]
    action_match: Matcher | None = None
    if wild:
        action_match = re.compile("|".join(f"(?:{glob_regex(a)})" for a in wild), re.DOTALL).fullmatch
    return Statement(
        index=index,
        sid=sid or None,
        effect=effect,
        actions=actions,
        not_action=action_key == "NotAction",
        resources=resources,
        not_resource=resource_key == "NotResource",
        conditions=conditions,
        _action_names=exact,
        _action_match=action_match,
        _patterns=tuple(patterns),
    )
