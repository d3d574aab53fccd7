"""The thing registry: things with attributes and versions, and the principals (certificates, Cognito
identities) attached to them (moto's `FakeThing` and `principal_things`, in plain dataclasses).

AWS references: `API_CreateThing.html`, `API_UpdateThing.html` (merge, an empty value removes an attribute,
`expectedVersion`), `API_DeleteThing.html` (a thing that does not exist is not an error),
`API_AttachThingPrincipal.html` (EXCLUSIVE_THING / NON_EXCLUSIVE_THING) and the thing policy variables page
https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html for `connection_thing`.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcore.iot.exceptions import (
    InvalidRequestException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    VersionConflictException,
    not_found,
)

THING_NAME = re.compile(r"[a-zA-Z0-9:_-]{1,128}")
ATTRIBUTE_NAME = re.compile(r"[a-zA-Z0-9_.,@/:#-]{1,128}")
ATTRIBUTE_VALUE = re.compile(r"[a-zA-Z0-9_.,@/:#=\[\]-]{0,800}")
MAX_UNTYPED_ATTRIBUTES = 3  # a thing without a thing type has at most three attributes (AWS::IoT::Thing)
EXCLUSIVE = "EXCLUSIVE_THING"
NON_EXCLUSIVE = "NON_EXCLUSIVE_THING"
PRINCIPAL_TYPES = (EXCLUSIVE, NON_EXCLUSIVE)


@dataclass
class Thing:
    """A registry entry as DescribeThing shows it (the default client id is the thing name)."""

    name: str
    thing_id: str
    arn: str
    attributes: dict[str, str] = field(default_factory=dict)
    version: int = 1


def check_thing_name(name: str) -> str:
    if not THING_NAME.fullmatch(name):
        raise InvalidRequestException(f"thingName {name!r} must match [a-zA-Z0-9:_-]+ (1-128 characters)")
    return name


def parse_attribute_payload(payload: Any) -> tuple[dict[str, str], bool]:
    """(attributes, merge) from an `attributePayload`, each name and value checked against AWS's patterns."""
    if payload is None:
        return {}, False
    if not isinstance(payload, Mapping):
        raise InvalidRequestException("attributePayload must be an object")
    attributes = payload.get("attributes") or {}
    merge = payload.get("merge", False)
    if not isinstance(attributes, Mapping) or not isinstance(merge, bool):
        raise InvalidRequestException(
            "attributePayload.attributes must map names to strings; merge a boolean"
        )
    for name, value in attributes.items():
        if not ATTRIBUTE_NAME.fullmatch(name):
            raise InvalidRequestException(f"attribute name {name!r} must match [a-zA-Z0-9_.,@/:#-]+ (≤ 128)")
        if not isinstance(value, str) or not ATTRIBUTE_VALUE.fullmatch(value):
            raise InvalidRequestException(
                f"attribute {name!r}: value must match [a-zA-Z0-9_.,@/:#=\\[\\]-]* (≤ 800)"
            )
    return dict(attributes), merge


def refuse_unemulated(thing_type_name: object, billing_group_name: object = None) -> None:
    """Thing types and billing groups are not emulated, so any one named does not exist."""
    if thing_type_name:
        raise ResourceNotFoundException(
            f"Thing type {thing_type_name} does not exist (localcore does not emulate thing types)"
        )
    if billing_group_name:
        raise ResourceNotFoundException(
            f"Billing group {billing_group_name} does not exist (localcore does not emulate billing groups)"
        )


class ThingStore:
    """Things by name and the principals attached to them, thread-safe."""

    def __init__(self, region: str = "us-east-1", account: str = "000000000000") -> None:
        self.region = region
        self.account = account
        self._lock = threading.RLock()
        self._things: dict[str, Thing] = {}
        self._principals: dict[str, dict[str, str]] = {}  # principal -> {thing name: principal type}
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """`listener()` after any change: thing policy variables may resolve anew (the broker forgets its
        decisions), and the state saver writes the registry (snapshot protocol)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def arn(self, name: str) -> str:
        return f"arn:aws:iot:{self.region}:{self.account}:thing/{name}"

    # things -------------------------------------------------------------------------------------
    def create(self, name: str, attributes: dict[str, str]) -> Thing:
        """CreateThing: repeating it with the same configuration succeeds, with another one it is
        ResourceAlreadyExistsException."""
        check_thing_name(name)
        _check_count(attributes)
        with self._lock:
            existing = self._things.get(name)
            if existing is not None:
                if existing.attributes == attributes:
                    return existing
                raise ResourceAlreadyExistsException(
                    f"Thing {name} already exists with a different configuration"
                )
            thing = Thing(name, str(uuid.uuid4()), self.arn(name), dict(attributes))
            self._things[name] = thing
        self._changed()
        return thing

    def get(self, name: str) -> Thing:
        with self._lock:
            thing = self._things.get(name)
        if thing is None:
            raise not_found(f"Thing {name}")
        return thing

    def list_things(self, attribute: tuple[str, str, bool] | None = None) -> list[Thing]:
        """Things by name; `attribute` = (name, value, value is a prefix) keeps the matching ones."""
        with self._lock:
            things = sorted(self._things.values(), key=lambda t: t.name)
        if attribute is None:
            return things
        name, value, prefix = attribute
        return [
            t
            for t in things
            if name in t.attributes
            and (t.attributes[name].startswith(value) if prefix else t.attributes[name] == value)
        ]

    def update(
        self, name: str, attributes: dict[str, str], merge: bool, expected_version: int | None
    ) -> None:
        """UpdateThing: replace the attributes (or merge them); an empty value removes one."""
        with self._lock:
            thing = self.get(name)
            _check_version(thing, expected_version)
            merged = {**thing.attributes, **attributes} if merge else dict(attributes)
            merged = {key: value for key, value in merged.items() if value}
            _check_count(merged)
            thing.attributes = merged
            thing.version += 1
        self._changed()

    def delete(self, name: str, expected_version: int | None) -> None:
        """DeleteThing: a missing thing is fine; one with principals attached is refused."""
        with self._lock:
            thing = self._things.get(name)
            if thing is None:
                return
            _check_version(thing, expected_version)
            if self.principals_of(name):
                # the words AWS answers (aws/aws-connected-device-framework#76, getmoto/moto#4616)
                raise InvalidRequestException(
                    f"Cannot delete. Thing {name} is still attached to one or more principals"
                )
            del self._things[name]
        self._changed()

    # principals ---------------------------------------------------------------------------------
    def attach(self, name: str, principal: str, principal_type: str) -> None:
        """AttachThingPrincipal: an EXCLUSIVE_THING principal is attached to this one thing only."""
        if principal_type not in PRINCIPAL_TYPES:
            raise InvalidRequestException(f"thingPrincipalType must be one of {', '.join(PRINCIPAL_TYPES)}")
        with self._lock:
            self.get(name)
            attached = self._principals.setdefault(principal, {})
            others = {thing: kind for thing, kind in attached.items() if thing != name}
            if others and (principal_type == EXCLUSIVE or EXCLUSIVE in others.values()):
                raise InvalidRequestException(
                    f"{principal} is attached to {', '.join(sorted(others))}; "
                    "an EXCLUSIVE_THING principal may be attached to one thing only"
                )
            attached[name] = principal_type
        self._changed()

    def detach(self, name: str, principal: str) -> None:
        with self._lock:
            self.get(name)
            attached = self._principals.get(principal, {})
            if name not in attached:
                raise not_found(f"Principal {principal} attached to thing {name}")
            del attached[name]
            if not attached:
                del self._principals[principal]
        self._changed()

    def principals_of(self, name: str) -> list[tuple[str, str]]:
        """(principal, thingPrincipalType) attached to the thing, which must exist (ListThingPrincipals)."""
        with self._lock:
            self.get(name)
            return sorted(
                (principal, things[name]) for principal, things in self._principals.items() if name in things
            )

    def things_of(self, principal: str) -> list[tuple[str, str]]:
        """(thing name, thingPrincipalType) the principal is attached to (ListPrincipalThings)."""
        with self._lock:
            return sorted(self._principals.get(principal, {}).items())

    def connection_thing(self, principal: str, client_id: str) -> Thing | None:
        """The thing whose policy variables a connection resolves: the principal's EXCLUSIVE_THING, else the
        attached thing named like the client id (non-exclusive association: "the value of clientId ... must
        exactly match the thing name"), else none."""
        with self._lock:
            attached = self._principals.get(principal, {})
            exclusive = [name for name, kind in attached.items() if kind == EXCLUSIVE]
            name = exclusive[0] if exclusive else client_id if client_id in attached else None
            return None if name is None else self._things.get(name)

    # snapshot protocol (localcore/persistence/protocol.py) --------------------------------------
    def to_snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "things": [
                    {"name": t.name, "id": t.thing_id, "attributes": dict(t.attributes), "version": t.version}
                    for t in self._things.values()
                ],
                "principals": {principal: dict(things) for principal, things in self._principals.items()},
            }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Add the saved things and the attachments to things that exist; ValueError for a bad record."""
        with self._lock:
            for record in snapshot.get("things", []):
                name = str(record["name"])
                if not THING_NAME.fullmatch(name):
                    raise ValueError(f"saved thing name {name!r} is not a thing name")
                if name not in self._things:
                    attributes = {str(k): str(v) for k, v in dict(record["attributes"]).items()}
                    self._things[name] = Thing(
                        name, str(record["id"]), self.arn(name), attributes, int(record["version"])
                    )
            for principal, things in dict(snapshot.get("principals", {})).items():
                for name, kind in dict(things).items():
                    if kind not in PRINCIPAL_TYPES:
                        raise ValueError(f"saved attachment of {principal} to {name}: unknown type {kind!r}")
                    if name in self._things:
                        self._principals.setdefault(str(principal), {})[str(name)] = str(kind)


def _check_version(thing: Thing, expected: int | None) -> None:
    if expected is not None and expected != thing.version:
        raise VersionConflictException(
            f"Thing {thing.name} is at version {thing.version}, not the expected {expected}"
        )


def _check_count(attributes: Mapping[str, str]) -> None:
    if len(attributes) > MAX_UNTYPED_ATTRIBUTES:
        raise InvalidRequestException(
            f"A thing without a thing type can have at most {MAX_UNTYPED_ATTRIBUTES} attributes"
        )
