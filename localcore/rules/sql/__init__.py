"""AWS IoT SQL for localcore: parse rule statements once, evaluate them per message like AWS does.

Public API: `compile_sql`, `CompiledQuery`, `QueryResult`, `SqlContext`, `render_template`,
`SqlParseError`, `UNDEFINED`.
"""

from __future__ import annotations

from localcore.broker.topics import matches as topic_matches
from localcore.rules.sql.context import MessageContext, SqlContext
from localcore.rules.sql.errors import SqlParseError
from localcore.rules.sql.query import CompiledQuery, QueryResult, compile_sql
from localcore.rules.sql.templates import CompiledTemplate, compile_template, render_template
from localcore.rules.sql.values import UNDEFINED

__all__ = [
    "UNDEFINED",
    "CompiledQuery",
    "CompiledTemplate",
    "MessageContext",
    "QueryResult",
    "SqlContext",
    "SqlParseError",
    "compile_sql",
    "compile_template",
    "render_template",
    "topic_matches",
]
