"""docs/rules-sql.md lists exactly the functions the registry implements."""

from __future__ import annotations

from pathlib import Path

from localcore.rules.sql.docgen import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules-sql.md"


def test_function_tables_are_up_to_date() -> None:
    """The supported/unsupported function list (iot-sql-functions.html) is generated from the registry."""
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "run: python -m localcore.rules.sql.docgen"
