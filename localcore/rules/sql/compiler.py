"""Compile the syntax tree into Python closures `Scope -> value` (parse once, evaluate fast)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from localcore.rules.sql import ast
from localcore.rules.sql.functions import FUNCTIONS, numeric
from localcore.rules.sql.functions.message import cast_value
from localcore.rules.sql.scope import Scope
from localcore.rules.sql.values import UNDEFINED, V1, sql_equals, to_bool, to_int, whole_to_int

Eval = Callable[[Scope], Any]

_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": numeric.add,
    "-": numeric.subtract,
    "*": numeric.multiply,
    "/": numeric.divide,
    "%": numeric.remainder,
}
_ORDERING: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


class Compiler:
    """Turns nodes into closures for one SQL version."""

    def __init__(self, version: str) -> None:
        self.version = version
        # SQL V2: whole-number Decimals are processed as Int (iot-sql-data-types.html).
        self.norm: Callable[[Any], Any] = (lambda v: v) if version == V1 else whole_to_int

    def expr(self, node: ast.Node) -> Eval:
        """The closure of one node, by its type."""
        match node:
            case ast.Literal():
                return self._literal(node)
            case ast.Wildcard():
                return self._wildcard(node)
            case ast.Field():
                return self._field(node)
            case ast.Variable():
                return self._variable(node)
            case ast.Member():
                return self._member(node)
            case ast.Index():
                return self._index(node)
            case ast.Unary():
                return self._unary(node)
            case ast.Binary():
                return self._binary(node)
            case ast.Call():
                return self._call(node)
            case ast.Cast():
                return self._cast(node)
            case ast.Case():
                return self._case(node)
            case ast.ObjectLiteral():
                return self._object_literal(node)
            case ast.ArrayLiteral():
                return self._array_literal(node)
            case ast.Query():
                return self._query(node)
        raise TypeError(f"the SQL compiler has no rule for {type(node).__name__}")

    # -- leaves ---------------------------------------------------------------------------------
    def _literal(self, node: ast.Literal) -> Eval:
        value = self.norm(node.value) if type(node.value) is Decimal else node.value
        return lambda s: value

    def _wildcard(self, node: ast.Wildcard) -> Eval:
        return lambda s: s.row

    def _field(self, node: ast.Field) -> Eval:
        name = node.name

        def field(s: Scope) -> Any:
            row = s.row
            return row.get(name, UNDEFINED) if type(row) is dict else UNDEFINED

        return field

    def _variable(self, node: ast.Variable) -> Eval:
        name = node.name
        return lambda s: s.vars.get(name, UNDEFINED)

    # -- access ---------------------------------------------------------------------------------
    def _member(self, node: ast.Member) -> Eval:
        target, name = self.expr(node.target), node.name

        def member(s: Scope) -> Any:
            value = target(s)
            return value.get(name, UNDEFINED) if type(value) is dict else UNDEFINED

        return member

    def _index(self, node: ast.Index) -> Eval:
        target, index = self.expr(node.target), self.expr(node.index)

        def indexed(s: Scope) -> Any:
            value, key = target(s), index(s)
            if type(value) is list:
                i = to_int(key)
                return value[i] if type(i) is int and 0 <= i < len(value) else UNDEFINED
            if type(value) is dict and type(key) is str:
                return value.get(key, UNDEFINED)
            return UNDEFINED

        return indexed

    # -- operators ------------------------------------------------------------------------------
    def _unary(self, node: ast.Unary) -> Eval:
        operand, norm = self.expr(node.operand), self.norm
        if node.op == "NOT":

            def logical_not(s: Scope) -> Any:
                value = to_bool(operand(s))
                return UNDEFINED if value is UNDEFINED else not value

            return logical_not
        if node.op == "-":
            return lambda s: norm(numeric.negate(operand(s)))
        return lambda s: norm(numeric.negate(numeric.negate(operand(s))))

    def _binary(self, node: ast.Binary) -> Eval:
        left, right, op, norm = self.expr(node.left), self.expr(node.right), node.op, self.norm
        if op in _ARITHMETIC:
            fn = _ARITHMETIC[op]
            return lambda s: norm(fn(left(s), right(s)))
        if op in ("AND", "OR"):
            is_and = op == "AND"

            def logical(s: Scope) -> Any:
                a, b = to_bool(left(s)), to_bool(right(s))
                if a is UNDEFINED or b is UNDEFINED:
                    return UNDEFINED
                return (a and b) if is_and else (a or b)

            return logical
        if op == "=":
            return lambda s: sql_equals(left(s), right(s))
        if op == "<>":

            def not_equal(s: Scope) -> Any:
                result = sql_equals(left(s), right(s))
                return result if result is UNDEFINED else not result

            return not_equal
        test = _ORDERING[op]

        def ordering(s: Scope) -> Any:
            result = numeric.compare(left(s), right(s))
            return UNDEFINED if result is None else test(result)

        return ordering

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, node: ast.Call) -> Eval:
        impl, norm = FUNCTIONS[node.name].impl, self.norm
        args = [self.expr(a) for a in node.args]
        if node.name == "encode" and node.args and isinstance(node.args[0], ast.Wildcard):
            # encode(*, ...) encodes the raw payload bytes, JSON or not (iot-sql-functions.html#encode).
            args[0] = lambda s: s.ctx.payload if s.row is s.doc else s.row
        if not args:
            return lambda s: norm(impl(s, []))
        if len(args) == 1:
            (only,) = args
            return lambda s: norm(impl(s, [only(s)]))
        return lambda s: norm(impl(s, [a(s) for a in args]))

    def _cast(self, node: ast.Cast) -> Eval:
        operand, type_name, version = self.expr(node.operand), node.type_name, self.version
        norm = self.norm if type_name in ("decimal", "double") else (lambda v: v)
        return lambda s: norm(cast_value(operand(s), type_name, version))

    def _case(self, node: ast.Case) -> Eval:
        subject = self.expr(node.subject)
        whens = [(self.expr(t), self.expr(r)) for t, r in node.whens]
        default = self.expr(node.default) if node.default is not None else None

        def case(s: Scope) -> Any:
            value = subject(s)
            if value is UNDEFINED:
                return UNDEFINED
            for test, result in whens:
                if sql_equals(value, test(s)) is True:
                    return result(s)
            return default(s) if default is not None else UNDEFINED

        return case

    # -- literals -------------------------------------------------------------------------------
    def _object_literal(self, node: ast.ObjectLiteral) -> Eval:
        members = [(key, self.expr(value)) for key, value in node.members]

        def build(s: Scope) -> Any:
            out = {}
            for key, fn in members:
                value = fn(s)
                if value is not UNDEFINED:
                    out[key] = value
            return out

        return build

    def _array_literal(self, node: ast.ArrayLiteral) -> Eval:
        items = [self.expr(i) for i in node.items]

        def build(s: Scope) -> Any:
            return [v for v in (fn(s) for fn in items) if v is not UNDEFINED]

        return build

    # -- queries --------------------------------------------------------------------------------
    def _query(self, node: ast.Query) -> Eval:
        """A nested query: runs over each element of an array (or once over an object)."""
        assert node.source is not None
        source = self.expr(node.source)
        where = self.expr(node.where) if node.where is not None else None
        project = self.projection(node)

        def run(row_scope: Scope) -> Any:
            if where is not None and where(row_scope) is not True:
                return UNDEFINED
            return project(row_scope)

        def nested(s: Scope) -> Any:
            rows = source(s)
            if type(rows) is list:
                results = (run(s.with_row(row)) for row in rows)
                return [r for r in results if r is not UNDEFINED]
            if type(rows) is dict:
                return run(s.with_row(rows))
            return UNDEFINED

        return nested

    def projection(self, node: ast.Query) -> Eval:
        """The SELECT list: a bare value (SELECT VALUE) or an object built item by item."""
        if node.value:
            return self.expr(node.items[0].expr)
        plan: list[tuple[tuple[str, ...] | None, Eval]] = []
        for position, item in enumerate(node.items, start=1):
            fn = self.expr(item.expr)
            if isinstance(item.expr, ast.Wildcard) and item.alias is None:
                plan.append((None, fn))
            else:
                plan.append((item.alias or (default_name(item.expr, position),), fn))

        def project(s: Scope) -> Any:
            out: dict[str, Any] = {}
            for path, fn in plan:
                value = fn(s)
                if path is None:
                    if type(value) is dict:
                        out.update(value)
                elif value is not UNDEFINED:
                    _assign(out, path, value)
            return out

        return project


def _assign(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if len(path) == 1:
        out[path[0]] = value
        return
    target = out
    for key in path[:-1]:
        nxt = target.get(key)
        if type(nxt) is not dict:
            nxt = {}
            target[key] = nxt
        target = nxt
    target[path[-1]] = value


def default_name(expr: ast.Node, position: int) -> str:
    """The output key of an item without AS: the last field name, the function name, else `_<position>`."""
    if isinstance(expr, ast.Field | ast.Member):
        return expr.name
    if isinstance(expr, ast.Call):
        return expr.name
    return f"_{position}"
