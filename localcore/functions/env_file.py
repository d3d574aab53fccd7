"""Environment files for the functions (`iotstream up --env-file`, `env_file` in `[tool.iotstream]`, the
pytest plugin): `KEY=VALUE` lines, blank lines, `#` comments and an `export ` prefix, values taken literally
(no quotes removed), as `docker run --env-file` reads them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from localcore.errors import LocalcoreError
from localcore.lambda_runtime.environment import RESERVED_VARIABLES

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EnvFileError(LocalcoreError, ValueError):
    """A variable or env file cannot be used: the message names the place and what to fix."""


def checked_name(key: str, where: str) -> str:
    """`key` if it can name a function's variable; EnvFileError when it is malformed or Lambda reserves it."""
    if not _NAME.fullmatch(key):
        raise EnvFileError(f"{where}: {key!r} is not a valid environment variable name")
    if key in RESERVED_VARIABLES:
        raise EnvFileError(f"{where}: {key} is reserved by Lambda (localcore sets it for each function)")
    return key


def read_env_file(path: Path, check: Callable[[str, str], str] = checked_name) -> dict[str, str]:
    """The variables of `path`; each name passes `check(name, "<file> line <n>")`."""
    environment: dict[str, str] = {}
    for number, line in enumerate(_read(path).splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = text.removeprefix("export ").partition("=")
        if not sep:
            raise EnvFileError(f"{path} line {number}: expected KEY=VALUE, not {text!r}")
        environment[check(key.strip(), f"{path} line {number}")] = value
    return environment


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise EnvFileError(
            f"--env-file {path}: not UTF-8 text (offset {error.start}); save it as UTF-8"
        ) from None
    except OSError as error:
        raise EnvFileError(f"--env-file {path}: cannot read it ({error.strerror})") from None
