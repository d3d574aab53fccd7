"""Substitution templates `${expression}` in rule-action fields (iot-substitution-templates.html).

Expressions run against the original message (not the SELECT output) and may use SET variables.
`$$` stands for a literal `$` (republish to `$$aws/...`); any other `$` not followed by `{` is literal.
"""

from __future__ import annotations

import functools
from typing import Any

from localcore.rules.sql.compiler import Compiler, Eval
from localcore.rules.sql.context import SqlContext
from localcore.rules.sql.parser import parse_expression
from localcore.rules.sql.query import normalise_version, parse_payload
from localcore.rules.sql.scope import Scope
from localcore.rules.sql.values import UNDEFINED, to_string


class CompiledTemplate:
    """A template split into literal text and compiled expressions."""

    def __init__(self, template: str, version: str) -> None:
        self.template = template
        self.version = version
        self._parts: list[str | Eval] = []
        compiler = Compiler(version)
        text: list[str] = []
        i, n = 0, len(template)
        while i < n:
            ch = template[i]
            if ch == "$" and template.startswith("$$", i):
                text.append("$")
                i += 2
            elif ch == "$" and template.startswith("${", i):
                node, end = parse_expression(template, i + 2, version, frozenset())
                if text:
                    self._parts.append("".join(text))
                    text = []
                self._parts.append(compiler.expr(node))
                i = end + 1
            else:
                text.append(ch)
                i += 1
        if text:
            self._parts.append("".join(text))

    def render(self, ctx: SqlContext, variables: dict[str, Any] | None = None) -> str:
        """The template with every `${...}` replaced by its value's string form (Undefined -> "")."""
        if all(type(p) is str for p in self._parts):
            return "".join(p for p in self._parts if type(p) is str)
        scope = Scope(ctx, self.version, parse_payload(ctx.payload, self.version), dict(variables or {}))
        out: list[str] = []
        for part in self._parts:
            if type(part) is str:
                out.append(part)
            else:
                value = to_string(part(scope))  # type: ignore[operator]
                out.append("" if value is UNDEFINED else value)
        return "".join(out)


@functools.lru_cache(maxsize=512)
def compile_template(template: str, version: str | None = None) -> CompiledTemplate:
    """Parse a template once (raises SqlParseError with the position inside the template)."""
    return CompiledTemplate(template, normalise_version(version))


def render_template(
    template: str, ctx: SqlContext, version: str | None = None, variables: dict[str, Any] | None = None
) -> str:
    """Render `template` against the original message `ctx` (and SET `variables` from the query result)."""
    return compile_template(template, version).render(ctx, variables)
