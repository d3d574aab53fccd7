"""Check a rule action's parameters against the action's shape in AWS IoT's API model (botocore's copy of
it: `Action` and its members, https://docs.aws.amazon.com/iot/latest/apireference/API_Action.html).

Required members must be there (a required string non-empty), no unknown member may be, and each value
must have its member's type, enum value, pattern and bounds: what CreateTopicRule refuses with
InvalidRequestException, refused here with the place named.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from typing import Any

import botocore.session
from botocore.model import Shape, StructureShape

Refuse = Callable[[str, str], Exception]  # (place, message) -> the error to raise


@functools.cache
def action_shapes() -> dict[str, StructureShape]:
    """Each action type's parameter shape, by its name in a rule (`sqs`, `dynamoDBv2`, ...)."""
    model = botocore.session.get_session().get_service_model("iot")
    action = model.shape_for("Action")
    assert isinstance(action, StructureShape)
    return {name: shape for name, shape in action.members.items() if isinstance(shape, StructureShape)}


def check_params(kind: str, params: Any, place: str, refuse: Refuse, optional: Collection[str] = ()) -> None:
    """Raise `refuse(place, message)` for the first way `params` breaks the `kind` action's shape;
    members in `optional` may be left out even when AWS requires them."""
    _check(action_shapes()[kind], params, f"{place}.{kind}", refuse, frozenset(optional))


def _check(
    shape: Shape, value: Any, place: str, refuse: Refuse, optional: frozenset[str] = frozenset()
) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            raise refuse(place, "must be an object")
        for name in value:
            if name not in shape.members:
                raise refuse(
                    f"{place}.{name}", f"unknown parameter; {shape.name} has {sorted(shape.members)}"
                )
        for name in shape.required_members:
            if name not in optional and (name not in value or value[name] == ""):
                raise refuse(
                    f"{place}.{name}",
                    "required" + (", a non-empty string" if _is_string(shape, name) else ""),
                )
        for name, item in value.items():
            _check(shape.members[name], item, f"{place}.{name}", refuse)
    elif kind == "list":
        if not isinstance(value, list):
            raise refuse(place, "must be a list")
        _bounds(len(value), shape, place, refuse, "items")
        for index, item in enumerate(value):
            _check(shape.member, item, f"{place}[{index}]", refuse)  # type: ignore[attr-defined]
    elif kind == "string":
        _check_string(shape, value, place, refuse)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise refuse(place, "must be true or false")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise refuse(place, "must be an integer")
        _bounds(value, shape, place, refuse, "")


def _is_string(shape: StructureShape, member: str) -> bool:
    return shape.members[member].type_name == "string"


def _check_string(shape: Shape, value: Any, place: str, refuse: Refuse) -> None:
    if not isinstance(value, str):
        raise refuse(place, "must be a string")
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        raise refuse(place, f"must be one of {enum}")
    pattern = shape.metadata.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        raise refuse(place, f"must match {pattern}")
    _bounds(len(value), shape, place, refuse, "characters")


def _bounds(size: int, shape: Shape, place: str, refuse: Refuse, unit: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise refuse(place, f"at least {low} {unit}".rstrip())
    if high is not None and size > high:
        raise refuse(place, f"at most {high} {unit}".rstrip())
