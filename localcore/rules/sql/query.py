"""Public entry points: compile a rule statement once, evaluate it per message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localcore.broker.topics import matches as topic_matches
from localcore.rules.sql import ast
from localcore.rules.sql.compiler import Compiler, Eval
from localcore.rules.sql.context import SqlContext
from localcore.rules.sql.errors import SqlParseError
from localcore.rules.sql.functions.message import parse_json_text
from localcore.rules.sql.parser import parse_statement
from localcore.rules.sql.scope import Scope
from localcore.rules.sql.values import UNDEFINED, V1, VERSIONS, to_json, to_python

_NOT_JSON = object()


def normalise_version(version: str | None) -> str:
    """`awsIotSqlVersion`, defaulting to 2015-10-08 when omitted (CloudFormation TopicRulePayload)."""
    if version is None:
        return V1
    if version not in VERSIONS:
        raise SqlParseError(
            f"Unsupported awsIotSqlVersion '{version}', expected one of {', '.join(VERSIONS)}"
        )
    return version


@dataclass(frozen=True)
class QueryResult:
    """The outcome for one message.

    `matched` is False when the WHERE clause was not exactly true (no action runs). `value` is the SQL
    value (Decimals, nested Undefined...) and `payload` the bytes actions receive: JSON text, the raw
    payload for a binary `SELECT *`, or b"" for a bare Undefined.
    """

    matched: bool
    value: Any = UNDEFINED
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def is_binary(self) -> bool:
        return type(self.value) is bytes

    @property
    def output(self) -> Any:
        """A JSON-serialisable Python value (Decimals as int/float; raw bytes stay bytes)."""
        return self.value if type(self.value) is bytes else to_python(self.value)

    @property
    def payload(self) -> bytes:
        if type(self.value) is bytes:
            return self.value
        return to_json(self.value).encode("utf-8")


class CompiledQuery:
    """A parsed and validated rule statement."""

    def __init__(self, sql: str, version: str, statement: ast.Statement) -> None:
        self.sql = sql
        self.version = version
        self.statement = statement
        self.topic_filter = statement.topic_filter
        compiler = Compiler(version)
        self._assignments: list[tuple[str, Eval]] = [(n, compiler.expr(e)) for n, e in statement.assignments]
        self._where = compiler.expr(statement.query.where) if statement.query.where is not None else None
        self._project = compiler.projection(statement.query)
        items = statement.query.items
        self._star_only = (
            len(items) == 1 and isinstance(items[0].expr, ast.Wildcard) and items[0].alias is None
        )

    def matches_topic(self, topic: str) -> bool:
        """Whether a message on `topic` triggers this rule (FROM filter)."""
        return self.topic_filter is not None and topic_matches(self.topic_filter, topic)

    def evaluate(self, ctx: SqlContext) -> QueryResult:
        """Run SET, then WHERE (must be exactly true), then SELECT against one message."""
        scope = Scope(ctx, self.version, parse_payload(ctx.payload, self.version), {})
        for name, fn in self._assignments:
            scope.vars[name] = fn(scope)
        if self._where is not None and self._where(scope) is not True:
            return QueryResult(False, UNDEFINED, scope.vars)
        if self._star_only and type(scope.doc) is not dict:
            return QueryResult(True, ctx.payload, scope.vars)  # binary / non-object payload passes through
        return QueryResult(True, self._project(scope), scope.vars)


def parse_payload(payload: bytes, version: str) -> Any:
    """The payload as SQL values when it is JSON, else the raw bytes."""
    value = parse_json_text(payload, version, fallback=_NOT_JSON)
    return payload if value is _NOT_JSON else value


def compile_sql(sql: str, version: str | None = None) -> CompiledQuery:
    """Parse and validate `sql` for `awsIotSqlVersion` `version` (default 2015-10-08)."""
    resolved = normalise_version(version)
    return CompiledQuery(sql, resolved, parse_statement(sql, resolved))
