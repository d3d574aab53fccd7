"""String functions (iot-sql-functions.html): conversions follow the docs' argument tables."""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

from localcore.rules.sql.functions.md2 import md2_hexdigest
from localcore.rules.sql.values import UNDEFINED, floor_int, to_string

_JAVA_TRIM = "".join(chr(c) for c in range(33))  # String.trim() strips every char <= U+0020
_SPACE_TAB = " \t"
MAX_PAD = 1000


def _str_args(args: list[Any], count: int) -> list[str] | None:
    if len(args) != count:
        return None
    out = [to_string(a) for a in args]
    return None if any(s is UNDEFINED for s in out) else out


def f_lower(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 1)
    return UNDEFINED if s is None else s[0].lower()


def f_upper(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 1)
    return UNDEFINED if s is None else s[0].upper()


def f_trim(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 1)
    return UNDEFINED if s is None else s[0].strip(_JAVA_TRIM)


def f_ltrim(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 1)
    return UNDEFINED if s is None else s[0].lstrip(_SPACE_TAB)


def f_rtrim(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 1)
    return UNDEFINED if s is None else s[0].rstrip(_SPACE_TAB)


def _pad(args: list[Any], left: bool) -> Any:
    if len(args) != 2:
        return UNDEFINED
    text = to_string(args[0])
    count = floor_int(args[1])
    if text is UNDEFINED or count is UNDEFINED:
        return UNDEFINED
    spaces = " " * max(0, min(MAX_PAD, count))
    return spaces + text if left else text + spaces


def f_lpad(_: Any, args: list[Any]) -> Any:
    return _pad(args, left=True)


def f_rpad(_: Any, args: list[Any]) -> Any:
    return _pad(args, left=False)


def f_length(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 1)
    return UNDEFINED if s is None else len(s[0])


def f_numbytes(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 1)
    return UNDEFINED if s is None else len(s[0].encode("utf-8"))


def f_indexof(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 2)
    return UNDEFINED if s is None else s[0].find(s[1])


def f_startswith(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 2)
    return UNDEFINED if s is None else s[0].startswith(s[1])


def f_endswith(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 2)
    return UNDEFINED if s is None else s[0].endswith(s[1])


def f_replace(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 3)
    return UNDEFINED if s is None else s[0].replace(s[1], s[2])


def f_substring(_: Any, args: list[Any]) -> Any:
    if len(args) not in (2, 3):
        return UNDEFINED
    text = to_string(args[0])
    indexes = [floor_int(a) for a in args[1:]]
    if text is UNDEFINED or any(i is UNDEFINED or i is None for i in indexes):
        return UNDEFINED
    size = len(text)
    start = max(0, min(size, indexes[0]))
    end = max(0, min(size, indexes[1])) if len(indexes) == 2 else size
    return text[start:end] if start < end else ""


def f_chr(_: Any, args: list[Any]) -> Any:
    if len(args) != 1:
        return UNDEFINED
    code = floor_int(args[0])
    if code is UNDEFINED or not 0 <= code <= 127:
        return UNDEFINED
    return chr(code)


def f_concat(_: Any, args: list[Any]) -> Any:
    if not args:
        return UNDEFINED
    if len(args) == 1:
        return args[0]
    if any(type(a) is list for a in args):
        out: list[Any] = []
        for a in args:
            if type(a) is list:
                out.extend(a)
            elif a is not UNDEFINED:
                out.append(a)
        return out
    if any(type(a) is str for a in args):
        parts = [to_string(a) for a in args]
        return UNDEFINED if any(p is UNDEFINED for p in parts) else "".join(parts)
    return UNDEFINED


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        return None


def f_regexp_matches(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 2)
    if s is None:
        return UNDEFINED
    pattern = _regex(s[1])
    return UNDEFINED if pattern is None else pattern.search(s[0]) is not None


def f_regexp_substr(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 2)
    if s is None:
        return UNDEFINED
    pattern = _regex(s[1])
    if pattern is None:
        return UNDEFINED
    match = pattern.search(s[0])
    return "" if match is None else match.group(0)


def java_replacement(replacement: str, groups: int) -> str | None:
    """Translate a Java replacement string (`$1`, `\\$`) into Python's `\\g<1>` form; None if invalid."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\":
            if i + 1 >= len(replacement):
                return None
            out.append(replacement[i + 1].replace("\\", "\\\\"))
            i += 2
        elif ch == "$":
            j = i + 1
            while (
                j < len(replacement)
                and replacement[j].isdigit()
                and int(replacement[i + 1 : j + 1]) <= groups
            ):
                j += 1
            if j == i + 1:
                return None
            out.append(f"\\g<{replacement[i + 1 : j]}>")
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def f_regexp_replace(_: Any, args: list[Any]) -> Any:
    s = _str_args(args, 3)
    if s is None:
        return UNDEFINED
    pattern = _regex(s[1])
    if pattern is None:
        return UNDEFINED
    replacement = java_replacement(s[2], pattern.groups)
    if replacement is None:
        return UNDEFINED
    try:
        return pattern.sub(replacement, s[0])
    except (re.error, IndexError):
        return UNDEFINED


def _hasher(algorithm: str) -> Any:
    def digest(_: Any, args: list[Any]) -> Any:
        s = _str_args(args, 1)
        if s is None:
            return UNDEFINED
        data = s[0].encode("utf-8")
        return md2_hexdigest(data) if algorithm == "md2" else hashlib.new(algorithm, data).hexdigest()

    digest.__name__ = f"f_{algorithm}"
    return digest


HASHES = {name: _hasher(name) for name in ("md2", "md5", "sha1", "sha224", "sha256", "sha384", "sha512")}
