"""parse_time() and time_to_epoch(): a subset of Joda-Time / JDK DateTimeFormatter patterns.

Supported letters: G y u Y M L d D E a H k h K m s S z Z X x V and quoted 'text'. Other letters make the
call Undefined.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from localcore.rules.sql.scope import Scope
from localcore.rules.sql.values import UNDEFINED, to_int, to_string

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_SUPPORTED = set("GyuYMLdDEaHkhKmsSzZXxV")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _tokens(pattern: str) -> list[tuple[str, str]] | None:
    """Split a pattern into ("letters", run) and ("text", literal) pieces; None if unsupported."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == -1:
                return None
            out.append(("text", "'" if end == i + 1 else pattern[i + 1 : end]))
            i = end + 1
        elif ch.isascii() and ch.isalpha():
            if ch not in _SUPPORTED:
                return None
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            out.append(("letters", pattern[i:j]))
            i = j
        else:
            out.append(("text", ch))
            i += 1
    return out


@functools.lru_cache(maxsize=128)
def zone(name: str) -> tzinfo | None:
    """A zone from an id such as "America/Belize", "UTC", "Z", "UTC+01:00" or "+0100"."""
    if name in ("UTC", "GMT", "Z", "UT"):
        return UTC
    match = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2}):?(\d{2})?", name)
    if match:
        sign = 1 if match.group(1) == "+" else -1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset_text(moment: datetime, colon: bool) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}" if colon else f"{sign}{hours:02d}{mins:02d}"


def _format_run(run: str, moment: datetime) -> str | None:
    letter, width = run[0], len(run)
    number: int | None = None
    if letter == "G":
        return "AD" if moment.year > 0 else "BC"
    if letter in "yuY":
        return f"{moment.year % 100:02d}" if width == 2 else str(moment.year).zfill(width)
    if letter in "ML":
        if width >= 4:
            return _MONTHS[moment.month - 1]
        if width == 3:
            return _MONTHS[moment.month - 1][:3]
        number = moment.month
    elif letter == "E":
        name = _DAYS[moment.weekday()]
        return name if width >= 4 else name[:3]
    elif letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    elif letter == "d":
        number = moment.day
    elif letter == "D":
        number = moment.timetuple().tm_yday
    elif letter == "H":
        number = moment.hour
    elif letter == "k":
        number = moment.hour or 24
    elif letter == "h":
        number = moment.hour % 12 or 12
    elif letter == "K":
        number = moment.hour % 12
    elif letter == "m":
        number = moment.minute
    elif letter == "s":
        number = moment.second
    elif letter == "S":
        return f"{moment.microsecond:06d}000"[:width].ljust(width, "0")
    elif letter == "z":
        return moment.tzname() or "UTC"
    elif letter in "Zx":
        return _offset_text(moment, colon=width == 2 or (letter == "x" and width >= 3))
    elif letter == "X":
        return "Z" if not moment.utcoffset() else _offset_text(moment, colon=width >= 3)
    elif letter == "V":
        return str(moment.tzinfo)
    return None if number is None else str(number).zfill(width)


def f_parse_time(_: Scope, args: list[Any]) -> Any:
    """parse_time(pattern, epochMillis[, timezone]) -> formatted String (default zone UTC)."""
    if len(args) not in (2, 3):
        return UNDEFINED
    pattern, millis = to_string(args[0]), to_int(args[1])
    zone_name = to_string(args[2]) if len(args) == 3 else "UTC"
    if pattern is UNDEFINED or type(millis) is not int or zone_name is UNDEFINED:
        return UNDEFINED
    tz, pieces = zone(zone_name), _tokens(pattern)
    if tz is None or pieces is None:
        return UNDEFINED
    try:
        moment = datetime.fromtimestamp(millis / 1000, tz)
    except (OverflowError, OSError, ValueError):
        return UNDEFINED
    out: list[str] = []
    for kind, text in pieces:
        piece = text if kind == "text" else _format_run(text, moment)
        if piece is None:
            return UNDEFINED
        out.append(piece)
    return "".join(out)


def _parse_regex(pieces: list[tuple[str, str]]) -> str | None:
    parts: list[str] = []
    for kind, text in pieces:
        if kind == "text":
            parts.append(re.escape(text))
            continue
        letter, width = text[0], len(text)
        if letter in "ML" and width >= 3:
            parts.append(r"(?P<month_name>[A-Za-z]+)")
        elif letter == "E":
            parts.append(r"[A-Za-z]+")
        elif letter == "G":
            parts.append(r"(?:AD|BC)")
        elif letter == "a":
            parts.append(r"(?P<ampm>AM|PM|am|pm)")
        elif letter in "zVZXx":
            parts.append(r"(?P<zone>[A-Za-z_/]+(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}:?\d{2}|Z)")
        elif letter in "yuYMLdDHkhKms":
            group = {"y": "year", "u": "year", "Y": "year", "M": "month", "L": "month", "d": "day"}.get(
                letter,
                {"H": "hour", "k": "hour", "h": "hour12", "K": "hour12", "m": "minute", "s": "second"}.get(
                    letter
                ),
            )
            if group is None:
                return None
            digits = (
                r"\d{4}"
                if letter in "yuY" and width >= 4
                else rf"\d{{{width},2}}"
                if width <= 2
                else rf"\d{{{width}}}"
            )
            parts.append(rf"(?P<{group}>{digits})")
        elif letter == "S":
            parts.append(rf"(?P<fraction>\d{{{width}}})")
        else:
            return None
    return "".join(parts)


def f_time_to_epoch(_: Scope, args: list[Any]) -> Any:
    """time_to_epoch(timestamp, pattern) -> epoch milliseconds (Int); zone defaults to UTC."""
    if len(args) != 2:
        return UNDEFINED
    text, pattern = to_string(args[0]), to_string(args[1])
    if text is UNDEFINED or pattern is UNDEFINED:
        return UNDEFINED
    pieces = _tokens(pattern)
    regex = _parse_regex(pieces) if pieces is not None else None
    match = re.fullmatch(regex, text) if regex is not None else None
    if match is None:
        return UNDEFINED
    fields = match.groupdict()
    try:
        month = int(fields["month"]) if fields.get("month") else 1
        if fields.get("month_name"):
            names = [m.lower() for m in _MONTHS]
            name = fields["month_name"].lower()
            month = next(i + 1 for i, m in enumerate(names) if m == name or m[:3] == name)
        hour = int(fields.get("hour") or 0)
        if fields.get("hour12"):
            hour = int(fields["hour12"]) % 12 + (12 if (fields.get("ampm") or "").upper() == "PM" else 0)
        fraction = fields.get("fraction") or "0"
        micro = int(fraction.ljust(6, "0")[:6])
        tz = zone(fields["zone"]) if fields.get("zone") else UTC
        if tz is None:
            return UNDEFINED
        moment = datetime(
            int(fields.get("year") or 1970),
            month,
            int(fields.get("day") or 1),
            hour,
            int(fields.get("minute") or 0),
            int(fields.get("second") or 0),
            micro,
            tzinfo=tz,
        )
    except (ValueError, StopIteration, OverflowError):
        return UNDEFINED
    return (moment - _EPOCH) // timedelta(milliseconds=1)
