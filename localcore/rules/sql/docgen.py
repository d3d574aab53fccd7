"""Regenerate the function tables of docs/rules-sql.md from the registry.

Run: python -m localcore.rules.sql.docgen [path]   (default docs/rules-sql.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

from localcore.rules.sql.functions import FUNCTIONS, UNSUPPORTED

BEGIN = "<!-- BEGIN GENERATED FUNCTIONS -->"
END = "<!-- END GENERATED FUNCTIONS -->"


def function_tables() -> str:
    """Markdown tables: supported functions with their minimum SQL version, then unsupported ones."""
    lines = ["| function | minimum awsIotSqlVersion |", "|---|---|"]
    lines += [f"| `{name}()` | {spec.min_version} |" for name, spec in sorted(FUNCTIONS.items())]
    lines += ["", "Refused at rule creation (`SqlParseError`):", "", "| function | why |", "|---|---|"]
    lines += [f"| `{name}()` | {reason} |" for name, reason in sorted(UNSUPPORTED.items())]
    return "\n".join(lines)


def render(document: str) -> str:
    """`document` with the text between the markers replaced by fresh tables."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{function_tables()}\n{END}{tail}"


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules-sql.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
