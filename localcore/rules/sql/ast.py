"""The syntax tree of an AWS IoT SQL statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Node:
    """Base of every expression node; `offset` is where it starts in the statement."""

    offset: int


@dataclass(frozen=True)
class Literal(Node):
    value: Any  # int, Decimal, str, bool or None (NULL)


@dataclass(frozen=True)
class Wildcard(Node):
    """`*`: the payload (the current row inside a nested query)."""


@dataclass(frozen=True)
class Field(Node):
    """A top-level name such as `color`, resolved against the current row."""

    name: str


@dataclass(frozen=True)
class Member(Node):
    """`target.name`."""

    target: Node
    name: str


@dataclass(frozen=True)
class Index(Node):
    """`target[index]`."""

    target: Node
    index: Node


@dataclass(frozen=True)
class Variable(Node):
    """`@name`, bound by SET."""

    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-", "+", "NOT"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # AND OR = <> < <= > >= + - * / %
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    name: str  # lower case
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Cast(Node):
    operand: Node
    type_name: str  # lower case keyword after AS


@dataclass(frozen=True)
class Case(Node):
    subject: Node
    whens: tuple[tuple[Node, Node], ...]
    default: Node | None


@dataclass(frozen=True)
class ObjectLiteral(Node):
    members: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class ArrayLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class SelectItem:
    expr: Node
    alias: tuple[str, ...] | None  # dotted alias path, or None


@dataclass(frozen=True)
class Query(Node):
    """A SELECT, top-level (source None = the message) or nested (source = an expression)."""

    value: bool
    items: tuple[SelectItem, ...]
    source: Node | None
    where: Node | None


@dataclass(frozen=True)
class Statement:
    """A whole rule statement."""

    assignments: tuple[tuple[str, Node], ...]
    query: Query
    topic_filter: str | None
