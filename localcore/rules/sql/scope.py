"""The evaluation scope shared by compiled expressions and built-in functions."""

from __future__ import annotations

from typing import Any

from localcore.rules.sql.context import SqlContext


class Scope:
    """One evaluation: the message context, the parsed payload, the current row and SET variables."""

    __slots__ = ("ctx", "doc", "row", "vars", "version")

    def __init__(self, ctx: SqlContext, version: str, doc: Any, variables: dict[str, Any]) -> None:
        self.ctx = ctx
        self.version = version
        self.doc = doc  # the parsed JSON payload, or the raw bytes when it is not JSON
        self.row = doc  # what bare field names resolve against (an array element in nested queries)
        self.vars = variables

    def with_row(self, row: Any) -> Scope:
        """A scope for one element of a nested query."""
        inner = Scope(self.ctx, self.version, self.doc, self.vars)
        inner.row = row
        return inner
