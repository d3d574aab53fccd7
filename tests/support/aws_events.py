"""AWS's documented event samples (tests/fixtures/aws_events/, sources in its README) and a shape comparison:
which fields are present, absent or null, and the JSON type of each value. Values may differ (request ids,
times); presence and null-ness may not."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "aws_events"


def sample(name: str) -> Any:
    """A sample by file name, freshly parsed (callers may modify it)."""
    return json.loads((SAMPLES / name).read_text())


def shape(value: Any, open_maps: Collection[str] = (), path: str = "") -> Any:
    """The value with every leaf replaced by its JSON type; objects at `open_maps` paths (dotted, e.g.
    `headers`) become "map": their keys depend on the request (AWS adds headers of its own)."""
    if isinstance(value, dict):
        if path in open_maps:
            return "map"
        return {key: shape(item, open_maps, f"{path}.{key}".lstrip(".")) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item, open_maps, path) for item in value[:1]]
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "string"


def assert_same_shape(actual: Any, documented: Any, open_maps: Collection[str] = ()) -> None:
    """Fail with the first differing path when `actual` is not shaped like AWS's sample."""
    got, want = shape(actual, open_maps), shape(documented, open_maps)
    assert got == want, f"shape differs from AWS's sample:\n{_first_difference(got, want)}"


def _first_difference(got: Any, want: Any, path: str = "$") -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want)):
            if key not in got:
                return f"{path}.{key}: missing (AWS: {want[key]!r})"
            if key not in want:
                return f"{path}.{key}: present (AWS: absent)"
            if got[key] != want[key]:
                return _first_difference(got[key], want[key], f"{path}.{key}")
    return f"{path}: {got!r} (AWS: {want!r})"
