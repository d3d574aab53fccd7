"""Recursive-descent parser: statement text -> `ast.Statement`, with SQL-version checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal, DecimalException
from typing import Final

from localcore.rules.sql import ast
from localcore.rules.sql.errors import SqlParseError
from localcore.rules.sql.functions import FUNCTIONS, UNSUPPORTED
from localcore.rules.sql.lexer import EOF, IDENT, NUMBER, OP, STRING, VAR, Token, tokenize
from localcore.rules.sql.values import DECIMAL_CONTEXT, V1

RESERVED: Final = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AS",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "AND",
        "OR",
        "NOT",
        "TRUE",
        "FALSE",
        "NULL",
    }
)
_COMPARISONS: Final = ("=", "<>", "<", "<=", ">", ">=")
_CAST_TYPES_ALL: Final = frozenset(
    {"string", "nvarchar", "text", "ntext", "varchar", "int", "integer", "double"}
)
_CAST_TYPES_2016: Final = frozenset({"decimal", "bool", "boolean"})

MAX_NESTING: Final = 32
"""Parentheses, brackets, braces, calls, CASE and unary operators inside one another. AWS documents no
limit; localcore refuses deeper statements with a position instead of overflowing Python's stack."""
MAX_DEPTH: Final = 200
"""Operations inside one another in the tree (a chain `a + b + ... ` of n operators is n deep): compiling
and evaluating recurse once per level, so deeper statements are refused the same way."""


def parse_statement(text: str, version: str) -> ast.Statement:
    """Parse a whole rule statement."""
    statement = _Parser(text, tokenize(text), version).statement()
    _check_depth(statement, text)
    return statement


def parse_expression(text: str, start: int, version: str, variables: frozenset[str]) -> tuple[ast.Node, int]:
    """Parse one expression starting at `start` and ending at an unmatched `}` (templates).

    Returns the node and the offset of the closing brace.
    """
    tokens = tokenize(text, start, stop_at_close_brace=True)
    parser = _Parser(text, tokens, version)
    parser.variables = set(variables)
    parser.allow_unknown_variables = True
    node = parser.expression()
    end = parser.expect_kind(EOF, "Expected '}'")
    if end.offset >= len(text):
        raise SqlParseError.at("Unterminated substitution template, expected '}'", text, start)
    _check_depth(node, text)
    return node, end.offset


def _check_depth(tree: object, text: str) -> None:
    """Refuse a tree more than MAX_DEPTH nodes deep, at the first node past the limit (no recursion)."""
    stack: list[tuple[object, int]] = [(tree, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, ast.Node):
            depth += 1
            if depth > MAX_DEPTH:
                raise SqlParseError.at(
                    f"Expression too complex: more than {MAX_DEPTH} operations inside one another",
                    text,
                    value.offset,
                )
        if isinstance(value, tuple):
            stack.extend((item, depth) for item in value)
        elif dataclasses.is_dataclass(value):
            stack.extend((getattr(value, f.name), depth) for f in dataclasses.fields(value))


class _Parser:
    def __init__(self, text: str, tokens: list[Token], version: str) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0
        self.version = version
        self.variables: set[str] = set()
        self.allow_unknown_variables = False
        self.nesting = 0

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def error(self, reason: str, token: Token | None = None) -> SqlParseError:
        token = token or self.tok
        return SqlParseError.at(f"{reason}, found {token.describe()}", self.text, token.offset)

    def is_keyword(self, word: str) -> bool:
        return self.tok.kind == IDENT and self.tok.value.upper() == word

    def accept_keyword(self, word: str) -> bool:
        if self.is_keyword(word):
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> Token:
        if not self.is_keyword(word):
            raise self.error(f"Expected {word}")
        return self.advance()

    def is_op(self, op: str) -> bool:
        return self.tok.kind == OP and self.tok.value == op

    def accept_op(self, op: str) -> bool:
        if self.is_op(op):
            self.pos += 1
            return True
        return False

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.error(f"Expected '{op}'")
        return self.advance()

    def expect_kind(self, kind: str, reason: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(reason)
        return self.advance()

    def require_2016(self, feature: str, token: Token) -> None:
        if self.version == V1:
            raise SqlParseError.at(
                f"{feature}: needs awsIotSqlVersion 2016-03-23 or later (this rule uses {V1})",
                self.text,
                token.offset,
            )

    # -- statement -----------------------------------------------------------------------------
    def statement(self) -> ast.Statement:
        assignments: list[tuple[str, ast.Node]] = []
        if self.accept_keyword("SET"):
            while True:
                var = self.expect_kind(VAR, "Expected a variable such as @name")
                if var.value in self.variables:
                    raise SqlParseError.at(f"Variable @{var.value} is already set", self.text, var.offset)
                self.expect_op("=")
                assignments.append((var.value, self.expression()))
                self.variables.add(var.value)
                if not self.accept_op(","):
                    break
        query = self.query(top_level=True)
        topic_filter: str | None = None
        if query.source is None and self._from_token is not None:
            topic_filter = self._from_token.value
        if self.tok.kind != EOF:
            raise self.error("Expected end of statement")
        return ast.Statement(tuple(assignments), query, topic_filter)

    _from_token: Token | None = None

    def query(self, top_level: bool) -> ast.Query:
        start = self.expect_keyword("SELECT")
        value = False
        if self.is_keyword("VALUE"):
            value = True
            self.advance()
        items = [self.select_item(value)]
        while not value and self.accept_op(","):
            items.append(self.select_item(value))
        source: ast.Node | None = None
        if top_level:
            if self.accept_keyword("FROM"):
                token = self.tok
                if token.kind != STRING:
                    raise self.error("Expected a topic filter in quotes after FROM")
                self.advance()
                _validate_topic_filter(self.text, token)
                self._from_token = token
            elif self.tok.kind != EOF and not self.is_keyword("WHERE"):
                raise self.error("Expected FROM")
        else:
            self.expect_keyword("FROM")
            source = self.postfix()
        where = self.expression() if self.accept_keyword("WHERE") else None
        return ast.Query(start.offset, value, tuple(items), source, where)

    def select_item(self, value: bool) -> ast.SelectItem:
        if self.tok.kind == EOF or self.is_keyword("FROM"):
            raise self.error("Expected an expression or * after SELECT")
        expr = self.expression()
        alias: tuple[str, ...] | None = None
        if not value and self.accept_keyword("AS"):
            parts = [self.expect_kind(IDENT, "Expected an alias after AS").value]
            while self.accept_op("."):
                parts.append(self.expect_kind(IDENT, "Expected a name after '.'").value)
            alias = tuple(parts)
        return ast.SelectItem(expr, alias)

    def nested(self, parse: Callable[[], ast.Node]) -> ast.Node:
        """Run `parse` one nesting level deeper; past MAX_NESTING the current token is the error's place."""
        if self.nesting >= MAX_NESTING:
            raise self.error(f"Expression nested more than {MAX_NESTING} levels deep")
        self.nesting += 1
        try:
            return parse()
        finally:
            self.nesting -= 1

    # -- expressions (lowest to highest precedence) ---------------------------------------------
    def expression(self) -> ast.Node:
        return self.nested(self.or_expr)

    def or_expr(self) -> ast.Node:
        left = self.and_expr()
        while self.is_keyword("OR"):
            token = self.advance()
            left = ast.Binary(token.offset, "OR", left, self.and_expr())
        return left

    def and_expr(self) -> ast.Node:
        left = self.not_expr()
        while self.is_keyword("AND"):
            token = self.advance()
            left = ast.Binary(token.offset, "AND", left, self.not_expr())
        return left

    def not_expr(self) -> ast.Node:
        if self.is_keyword("NOT"):
            token = self.advance()
            return ast.Unary(token.offset, "NOT", self.nested(self.not_expr))
        return self.comparison()

    def comparison(self) -> ast.Node:
        left = self.additive()
        while self.tok.kind == OP and self.tok.value in _COMPARISONS:
            token = self.advance()
            left = ast.Binary(token.offset, token.value, left, self.additive())
        return left

    def additive(self) -> ast.Node:
        left = self.multiplicative()
        while self.tok.kind == OP and self.tok.value in ("+", "-"):
            token = self.advance()
            left = ast.Binary(token.offset, token.value, left, self.multiplicative())
        return left

    def multiplicative(self) -> ast.Node:
        left = self.unary()
        while self.tok.kind == OP and self.tok.value in ("*", "/", "%"):
            token = self.advance()
            left = ast.Binary(token.offset, token.value, left, self.unary())
        return left

    def unary(self) -> ast.Node:
        if self.tok.kind == OP and self.tok.value in ("-", "+"):
            token = self.advance()
            operand = self.nested(self.unary)
            if (
                token.value == "-"
                and isinstance(operand, ast.Literal)
                and type(operand.value) in (int, Decimal)
            ):
                return ast.Literal(token.offset, -operand.value)
            return ast.Unary(token.offset, token.value, operand)
        return self.postfix()

    def postfix(self) -> ast.Node:
        node = self.primary()
        while True:
            if self.is_op("."):
                self.advance()
                name = self.expect_kind(IDENT, "Expected a field name after '.'")
                node = ast.Member(name.offset, node, name.value)
            elif self.is_op("["):
                token = self.advance()
                index = self.expression()
                self.expect_op("]")
                node = ast.Index(token.offset, node, index)
            else:
                return node

    def primary(self) -> ast.Node:
        token = self.tok
        if token.kind == NUMBER:
            self.advance()
            try:
                return ast.Literal(token.offset, _number(token.value))
            except DecimalException:
                raise SqlParseError.at("Number out of range", self.text, token.offset) from None
        if token.kind == STRING:
            self.advance()
            return ast.Literal(token.offset, token.value)
        if token.kind == VAR:
            self.advance()
            if token.value not in self.variables and not self.allow_unknown_variables:
                raise SqlParseError.at(f"Variable @{token.value} is not set", self.text, token.offset)
            return ast.Variable(token.offset, token.value)
        if token.kind == OP:
            return self.punctuation(token)
        if token.kind == IDENT:
            return self.word(token)
        raise self.error("Expected an expression")

    def punctuation(self, token: Token) -> ast.Node:
        if token.value == "*":
            self.advance()
            return ast.Wildcard(token.offset)
        if token.value == "(":
            self.advance()
            if self.is_keyword("SELECT"):
                self.require_2016("Nested queries", self.tok)
                node: ast.Node = self.query(top_level=False)
            else:
                node = self.expression()
            self.expect_op(")")
            return node
        if token.value == "{":
            self.require_2016("Object literals", token)
            self.advance()
            members: list[tuple[str, ast.Node]] = []
            if not self.is_op("}"):
                while True:
                    key = self.tok
                    if key.kind not in (STRING, IDENT):
                        raise self.error("Expected an object key")
                    self.advance()
                    self.expect_op(":")
                    members.append((key.value, self.expression()))
                    if not self.accept_op(","):
                        break
            self.expect_op("}")
            return ast.ObjectLiteral(token.offset, tuple(members))
        if token.value == "[":
            self.require_2016("Array literals", token)
            self.advance()
            items: list[ast.Node] = []
            if not self.is_op("]"):
                items.append(self.expression())
                while self.accept_op(","):
                    items.append(self.expression())
            self.expect_op("]")
            return ast.ArrayLiteral(token.offset, tuple(items))
        raise self.error("Expected an expression")

    def word(self, token: Token) -> ast.Node:
        upper = token.value.upper()
        if upper in ("TRUE", "FALSE"):
            self.advance()
            return ast.Literal(token.offset, upper == "TRUE")
        if upper == "NULL":
            self.advance()
            return ast.Literal(token.offset, None)
        if upper == "CASE":
            return self.case()
        if upper in RESERVED:
            raise self.error("Expected an expression")
        self.advance()
        if not self.is_op("("):
            return ast.Field(token.offset, token.value)
        name = token.value.lower()
        self.advance()
        if name == "cast":
            return self.cast(token)
        self.check_function(name, token)
        args: list[ast.Node] = []
        if not self.is_op(")"):
            args.append(self.expression())
            while self.accept_op(","):
                args.append(self.expression())
        self.expect_op(")")
        return ast.Call(token.offset, name, tuple(args))

    def check_function(self, name: str, token: Token) -> None:
        if name in UNSUPPORTED:
            raise SqlParseError.at(
                f"Function {name}() is not supported by localcore: {UNSUPPORTED[name]}",
                self.text,
                token.offset,
            )
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise SqlParseError.at(f"Undefined function {name}()", self.text, token.offset)
        if spec.min_version != V1:
            self.require_2016(f"Function {name}()", token)

    def cast(self, token: Token) -> ast.Node:
        operand = self.expression()
        self.expect_keyword("AS")
        type_token = self.expect_kind(IDENT, "Expected a type name after AS")
        type_name = type_token.value.lower()
        if type_name in _CAST_TYPES_2016:
            self.require_2016(f"cast to {type_token.value}", type_token)
        elif type_name not in _CAST_TYPES_ALL:
            raise SqlParseError.at(f"Unknown cast type {type_token.value}", self.text, type_token.offset)
        self.expect_op(")")
        return ast.Cast(token.offset, operand, type_name)

    def case(self) -> ast.Node:
        token = self.advance()
        subject = self.expression()
        whens: list[tuple[ast.Node, ast.Node]] = []
        while self.accept_keyword("WHEN"):
            test = self.expression()
            self.expect_keyword("THEN")
            whens.append((test, self.expression()))
        if not whens:
            raise self.error("Expected WHEN")
        default = self.expression() if self.accept_keyword("ELSE") else None
        self.expect_keyword("END")
        return ast.Case(token.offset, subject, tuple(whens), default)


def _number(text: str) -> int | Decimal:
    if "." in text or "e" in text or "E" in text:
        return DECIMAL_CONTEXT.create_decimal(text)
    return int(text)


def _validate_topic_filter(text: str, token: Token) -> None:
    topic = token.value
    levels = topic.split("/")
    problem = ""
    if not topic:
        problem = "The topic filter is empty"
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            problem = "'#' must be a whole last level of the topic filter"
        if "+" in level and level != "+":
            problem = "'+' must be a whole level of the topic filter"
    if problem:
        raise SqlParseError.at(problem, text, token.offset)
