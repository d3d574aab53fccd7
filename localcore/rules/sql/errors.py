"""Errors raised while compiling AWS IoT SQL."""

from __future__ import annotations

from localcore.errors import LocalcoreError


class SqlParseError(LocalcoreError):
    """The statement cannot be compiled; shaped like AWS's `SqlParseException`.

    `line` and `column` are 1-based, `offset` is the 0-based character offset into the statement.
    """

    def __init__(self, reason: str, *, line: int = 1, column: int = 1, offset: int = 0) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.offset = offset
        super().__init__(f"{reason} at {line}:{column}")

    @classmethod
    def at(cls, reason: str, text: str, offset: int) -> SqlParseError:
        """Build the error for `offset` in `text`, computing line and column."""
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return cls(reason, line=line, column=column, offset=offset)
