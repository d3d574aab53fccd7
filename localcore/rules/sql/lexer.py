"""Tokenizer for AWS IoT SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from localcore.rules.sql.errors import SqlParseError

# Token kinds
IDENT: Final = "identifier"
NUMBER: Final = "number"
STRING: Final = "string"
VAR: Final = "variable"
OP: Final = "operator"
EOF: Final = "end of statement"

_OPERATORS: Final = (
    "<>",
    "<=",
    ">=",
    ",",
    ".",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "*",
    "+",
    "-",
    "/",
    "%",
    "=",
    "<",
    ">",
)
_ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "/": "/",
    "\\": "\\",
    "'": "'",
    '"': '"',
}
MAX_VARIABLE_NAME: Final = 64


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its value (identifier text, decoded string, number text, operator) and offset."""

    kind: str
    value: str
    offset: int
    end: int

    def describe(self) -> str:
        """How the token appears in error messages."""
        if self.kind == EOF:
            return "end of statement"
        if self.kind == STRING:
            return f"string '{self.value}'"
        return f"'{self.value}'"


def tokenize(text: str, start: int = 0, stop_at_close_brace: bool = False) -> list[Token]:
    """Split `text[start:]` into tokens ending with an EOF token.

    With `stop_at_close_brace`, stop at the first `}` that closes nothing (used for `${...}` templates);
    the EOF token then sits at that brace.
    """
    tokens: list[Token] = []
    i, n, depth = start, len(text), 0
    while True:
        while i < n and text[i] in " \t\r\n\f\v":
            i += 1
        if i >= n:
            tokens.append(Token(EOF, "", n, n))
            return tokens
        ch = text[i]
        if ch.isascii() and (ch.isalpha() or ch == "_"):
            j = i + 1
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token(IDENT, text[i:j], i, j))
            i = j
        elif ch.isascii() and ch.isdigit():
            j = _scan_number(text, i)
            tokens.append(Token(NUMBER, text[i:j], i, j))
            i = j
        elif ch in "'\"":
            value, j = _scan_string(text, i)
            tokens.append(Token(STRING, value, i, j))
            i = j
        elif ch == "@":
            j = i + 1
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            name = text[i + 1 : j]
            if not name:
                raise SqlParseError.at("Expected variable name after '@'", text, i)
            if len(name) > MAX_VARIABLE_NAME:
                raise SqlParseError.at(f"Variable name longer than {MAX_VARIABLE_NAME} characters", text, i)
            tokens.append(Token(VAR, name, i, j))
            i = j
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None and text.startswith("||", i):
                raise SqlParseError.at(
                    "AWS IoT SQL has no '||' operator; concatenate with concat(a, b) or a + b", text, i
                )
            if op is None:
                raise SqlParseError.at(f"Unexpected character '{ch}'", text, i)
            if stop_at_close_brace and op == "}" and depth == 0:
                tokens.append(Token(EOF, "", i, i))
                return tokens
            depth += 1 if op == "{" else -1 if op == "}" else 0
            tokens.append(Token(OP, op, i, i + len(op)))
            i += len(op)


def _scan_number(text: str, i: int) -> int:
    n = len(text)
    j = i
    while j < n and text[j].isascii() and text[j].isdigit():
        j += 1
    if j + 1 < n and text[j] == "." and text[j + 1].isascii() and text[j + 1].isdigit():
        j += 1
        while j < n and text[j].isascii() and text[j].isdigit():
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k].isascii() and text[k].isdigit():
            j = k
            while j < n and text[j].isascii() and text[j].isdigit():
                j += 1
    return j


def _scan_string(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    out: list[str] = []
    j, n = i + 1, len(text)
    while j < n:
        ch = text[j]
        if ch == quote:
            return "".join(out), j + 1
        if ch == "\\":
            if j + 1 >= n:
                break
            nxt = text[j + 1]
            if nxt == "u":
                digits = text[j + 2 : j + 6]
                if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                    raise SqlParseError.at("Invalid unicode escape in string literal", text, j)
                out.append(chr(int(digits, 16)))
                j += 6
                continue
            if nxt not in _ESCAPES:
                raise SqlParseError.at(f"Invalid escape '\\{nxt}' in string literal", text, j)
            out.append(_ESCAPES[nxt])
            j += 2
            continue
        out.append(ch)
        j += 1
    raise SqlParseError.at("Unterminated string literal", text, i)
