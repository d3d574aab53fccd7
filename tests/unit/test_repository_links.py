"""The repository stands alone: every relative link and every cited file path in its Markdown, docstrings
and comments exists inside it, and nothing points at the workspace around it (a clean clone has no
`DESIGN.md`, no `shared/reference/`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = ("docs", "localcore", "clients", "lambdas", "iot_policies", "iot_rules", "cdk", "tests", "bench")
TOP_LEVEL += ("examples", "scripts")
SKIPPED_DIRS = {".venv", "node_modules", "cdk.out", "build", "__pycache__", ".mypy_cache", ".pytest_cache"}
GENERATED = ("bench/results/",)  # written by `make bench` (plots are not committed)

MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
REPO_PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(TOP_LEVEL) + r")/[\w./-]*[\w/])(?![\w*<{….-])")
MARKDOWN_FILE = re.compile(r"(?<![\w-])((?:\.\./|[\w-]+/)*[\w.-]+\.md)\b")
OUTSIDE = re.compile(r"DESIGN\.md|shared/reference|/work/|\.\./shared")
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")  # a web address is not a repository path


def _sources() -> Iterator[Path]:
    yield from sorted(ROOT.glob("*.md"))
    for top in TOP_LEVEL:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in (".md", ".py") and not SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                yield path


THIS_FILE = Path(__file__).resolve()  # it names the forbidden paths itself
SOURCES = [path.relative_to(ROOT) for path in _sources() if path.resolve() != THIS_FILE]


def _exists(cited: str, source: Path) -> bool:
    """A path is fine relative to the citing file, to the repository root, or (bare names) to docs/."""
    cited = cited.split("#", 1)[0]
    if cited.startswith(GENERATED):
        return True
    candidates = [ROOT / source.parent / cited, ROOT / cited, ROOT / "docs" / cited]
    if "." in Path(cited).name and not cited.endswith((".md", ".json", ".py", ".txt", ".toml", ".sh")):
        module = cited.rsplit("/", 1)[0] + "/" + Path(cited).name.split(".", 1)[0]
        candidates.append(ROOT / f"{module}.py")  # `clients/presign.sign_http_request`: module.attribute
    return any(candidate.exists() for candidate in candidates)


def _problems(source: Path) -> list[str]:
    text = (ROOT / source).read_text(encoding="utf-8")
    found = [f"points outside the repository: {m.group(0)!r}" for m in OUTSIDE.finditer(text)]
    if source.suffix == ".md":
        for match in MARKDOWN_LINK.finditer(text):
            target = match.group(1)
            if not re.match(r"[a-z][a-z0-9+.-]*:|#", target) and not _exists(target, source):
                found.append(f"broken link {target!r}")
    without_urls = URL.sub(" ", text)
    for pattern in (REPO_PATH, MARKDOWN_FILE):
        for match in pattern.finditer(without_urls):
            if not _exists(match.group(1).rstrip("."), source):
                found.append(f"cites a missing file {match.group(1)!r}")
    return found


def test_the_scan_sees_the_whole_repository() -> None:
    """The scan covers the README, every doc page and the Python sources (a guard against an empty glob)."""
    assert Path("README.md") in SOURCES and Path("docs/architecture.md") in SOURCES
    folders = {path.parts[0] for path in SOURCES if len(path.parts) > 1}
    assert {"docs", "localcore", "clients", "lambdas", "iot_policies", "cdk", "tests", "examples"} <= folders


def test_cited_paths_exist() -> None:
    """Every relative Markdown link and every repository path or `.md` page named in a doc, docstring or
    comment exists in this repository; none points at `DESIGN.md`, `shared/reference/` or `/work/`."""
    problems = {str(source): found for source in SOURCES if (found := _problems(source))}
    assert problems == {}
