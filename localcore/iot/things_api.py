"""The thing registry's operations (restJson1, as boto3's `iot` client speaks them).

Shapes from the AWS IoT API reference: https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html,
`API_DescribeThing`, `API_ListThings`, `API_UpdateThing`, `API_DeleteThing`, `API_AttachThingPrincipal` (the
principal travels in the `x-amzn-principal` header), `API_DetachThingPrincipal`, `API_ListThingPrincipals`,
`API_ListPrincipalThings` and their `V2` forms, which also give each attachment's `thingPrincipalType`.
IAM authorizes each call on the thing's ARN (`thing/<name>`), the list operations on `*`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from localcore.http.gateway import Gateway
from localcore.iot.exceptions import InvalidRequestException
from localcore.iot.things import (
    NON_EXCLUSIVE,
    Thing,
    check_thing_name,
    parse_attribute_payload,
    refuse_unemulated,
)
from localcore.iot.wire import IotRoutes, json_body, page, query_flag

TOKEN_NAMES = ("nextToken", "maxResults")


class ThingsApi(IotRoutes):
    """Routes for things and their principals."""

    def mount(self, gateway: Gateway) -> None:
        for method, path, handler in (
            ("GET", "/things", self.list_things),
            ("POST", "/things/{name}", self.create_thing),
            ("GET", "/things/{name}", self.describe_thing),
            ("PATCH", "/things/{name}", self.update_thing),
            ("DELETE", "/things/{name}", self.delete_thing),
            ("PUT", "/things/{name}/principals", self.attach_thing_principal),
            ("DELETE", "/things/{name}/principals", self.detach_thing_principal),
            ("GET", "/things/{name}/principals", self.list_thing_principals),
            ("GET", "/things/{name}/principals-v2", self.list_thing_principals_v2),
            ("GET", "/principals/things", self.list_principal_things),
            ("GET", "/principals/things-v2", self.list_principal_things_v2),
        ):
            gateway.add_route(method, path, handler, service="iot")

    async def _thing(self, request: web.Request, action: str) -> str:
        name = check_thing_name(request.match_info["name"])
        await self.authorize(request, action, f"thing/{name}")
        return name

    async def create_thing(self, request: web.Request) -> web.StreamResponse:
        name = await self._thing(request, "iot:CreateThing")
        body = await json_body(request)
        refuse_unemulated(body.get("thingTypeName"), body.get("billingGroupName"))
        attributes, _ = parse_attribute_payload(body.get("attributePayload"))
        thing = self.backend.things.create(name, attributes)
        return web.json_response({"thingName": thing.name, "thingArn": thing.arn, "thingId": thing.thing_id})

    async def describe_thing(self, request: web.Request) -> web.StreamResponse:
        thing = self.backend.things.get(await self._thing(request, "iot:DescribeThing"))
        return web.json_response(
            {"defaultClientId": thing.name, **_attribute(thing), "thingId": thing.thing_id}
        )

    async def list_things(self, request: web.Request) -> web.StreamResponse:
        """Filters: `attributeName` + `attributeValue` (a prefix with `usePrefixAttributeValue`), and
        `thingTypeName`, which no thing has here."""
        await self.authorize(request, "iot:ListThings")
        query = request.query
        name, value = query.get("attributeName"), query.get("attributeValue")
        if (name is None) != (value is None):
            raise InvalidRequestException("attributeName and attributeValue go together")
        attribute = (
            None
            if name is None or value is None
            else (name, value, query_flag(request, "usePrefixAttributeValue"))
        )
        things = [] if query.get("thingTypeName") else self.backend.things.list_things(attribute)
        items, following = page(things, query.get("nextToken"), query.get("maxResults"), TOKEN_NAMES)
        return _listing("things", [_attribute(t) for t in items], following)

    async def update_thing(self, request: web.Request) -> web.StreamResponse:
        name = await self._thing(request, "iot:UpdateThing")
        body = await json_body(request)
        refuse_unemulated(body.get("thingTypeName"))
        attributes, merge = parse_attribute_payload(body.get("attributePayload"))
        expected = body.get("expectedVersion")
        if expected is not None and not isinstance(expected, int):
            raise InvalidRequestException("expectedVersion must be a whole number")
        self.backend.things.update(name, attributes, merge, expected)
        return web.json_response({})

    async def delete_thing(self, request: web.Request) -> web.StreamResponse:
        name = await self._thing(request, "iot:DeleteThing")
        expected = request.query.get("expectedVersion")
        if expected is not None and not expected.isdigit():
            raise InvalidRequestException("expectedVersion must be a whole number")
        self.backend.things.delete(name, None if expected is None else int(expected))
        return web.json_response({})

    async def attach_thing_principal(self, request: web.Request) -> web.StreamResponse:
        name = await self._thing(request, "iot:AttachThingPrincipal")
        principal = self.backend.check_principal(_principal(request))
        kind = request.query.get("thingPrincipalType", NON_EXCLUSIVE)
        self.backend.things.attach(name, principal, kind)
        return web.json_response({})

    async def detach_thing_principal(self, request: web.Request) -> web.StreamResponse:
        name = await self._thing(request, "iot:DetachThingPrincipal")
        self.backend.things.detach(name, _principal(request))
        return web.json_response({})

    async def list_thing_principals(self, request: web.Request) -> web.StreamResponse:
        name = await self._thing(request, "iot:ListThingPrincipals")
        principals = [principal for principal, _ in self.backend.things.principals_of(name)]
        items, following = _page(request, principals)
        return _listing("principals", items, following)

    async def list_thing_principals_v2(self, request: web.Request) -> web.StreamResponse:
        name = await self._thing(request, "iot:ListThingPrincipalsV2")
        attached = self.backend.things.principals_of(name)
        items, following = _page(request, _of_type(request, attached))
        objects = [{"principal": principal, "thingPrincipalType": kind} for principal, kind in items]
        return _listing("thingPrincipalObjects", objects, following)

    async def list_principal_things(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, "iot:ListPrincipalThings")
        principal = self.backend.check_principal(_principal(request))
        things = [name for name, _ in self.backend.things.things_of(principal)]
        items, following = _page(request, things)
        return _listing("things", items, following)

    async def list_principal_things_v2(self, request: web.Request) -> web.StreamResponse:
        await self.authorize(request, "iot:ListPrincipalThingsV2")
        principal = self.backend.check_principal(_principal(request))
        attached = self.backend.things.things_of(principal)
        items, following = _page(request, _of_type(request, attached))
        objects = [{"thingName": name, "thingPrincipalType": kind} for name, kind in items]
        return _listing("principalThingObjects", objects, following)


def _principal(request: web.Request) -> str:
    principal = request.headers.get("x-amzn-principal", "")
    if not principal:
        raise InvalidRequestException("principal (the x-amzn-principal header) is required")
    return principal


def _page(request: web.Request, items: list[Any]) -> tuple[list[Any], str | None]:
    return page(items, request.query.get("nextToken"), request.query.get("maxResults"), TOKEN_NAMES)


def _of_type(request: web.Request, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The V2 lists' optional `thingPrincipalType` filter."""
    kind = request.query.get("thingPrincipalType")
    return pairs if kind is None else [pair for pair in pairs if pair[1] == kind]


def _listing(key: str, items: list[Any], following: str | None) -> web.StreamResponse:
    body: dict[str, Any] = {key: items}
    if following is not None:
        body["nextToken"] = following
    return web.json_response(body)


def _attribute(thing: Thing) -> dict[str, Any]:
    """A `ThingAttribute` (ListThings), also the core of DescribeThing's answer."""
    return {
        "thingName": thing.name,
        "thingArn": thing.arn,
        "attributes": thing.attributes,
        "version": thing.version,
    }
