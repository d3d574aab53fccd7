"""What the IoT control plane's API modules share: IAM in front of every call, JSON bodies, list pages.

List operations page with an opaque token: `marker`/`nextMarker` and `pageSize` (ListCertificates,
ListAttachedPolicies, ListTargetsForPolicy) or `nextToken` and `maxResults` (the registry's ListThings,
ListThingPrincipals, ListPrincipalThings). Both sizes range over 1-250; AWS documents no default, so a missing
size is the largest page.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web

from localcore.iam.authorizer import IamAuthorizer
from localcore.identity.credentials import Caller
from localcore.iot.backend import IotBackend
from localcore.iot.exceptions import InvalidRequestException

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_PAGE_SIZE = 250


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} when empty); InvalidRequestException when it is not one."""
    raw = await request.read()
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep to decode
        log.info("%s %s: request body is not JSON: %s", request.method, request.path, error)
        raise InvalidRequestException("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise InvalidRequestException("The request body must be a JSON object.")
    return body


def page(
    items: Sequence[T], token: str | None, size: str | None, names: tuple[str, str] = ("marker", "pageSize")
) -> tuple[list[T], str | None]:
    """One page of `items` from the token of the previous page, and the token of the next (None at the end).
    `names` are the request's parameter names, for the error message."""
    try:
        count = int(size) if size else MAX_PAGE_SIZE
        start = int(base64.b64decode(token, validate=True)) if token else 0
    except (ValueError, binascii.Error):
        raise InvalidRequestException(
            f"{names[0]} must come from a previous page and {names[1]} be 1-{MAX_PAGE_SIZE}"
        ) from None
    if not 1 <= count <= MAX_PAGE_SIZE or start < 0:
        raise InvalidRequestException(f"{names[1]} must be between 1 and {MAX_PAGE_SIZE}")
    end = start + count
    following = base64.b64encode(str(end).encode()).decode() if end < len(items) else None
    return list(items[start:end]), following


def query_flag(request: web.Request, name: str, default: bool = False) -> bool:
    """A boolean query parameter as botocore writes it (`true` / `false`)."""
    value = request.query.get(name)
    return default if value is None else value.lower() == "true"


class IotRoutes:
    """Base of the control plane's API classes: the backend, and IAM in front of every call."""

    def __init__(self, backend: IotBackend, iam: IamAuthorizer) -> None:
        self.backend = backend
        self.iam = iam

    async def authorize(self, request: web.Request, action: str, resource: str = "*") -> Caller:
        """The signed caller, if its IAM role allows `action` on `resource` (`policy/p`, `thing/t`, or `*`)."""
        arn = resource if resource == "*" else self.backend.arn(resource)
        return await self.iam.authorize(request, {"iot", "execute-api"}, action, arn)
