"""The iot-data `Publish` endpoint on the gateway: SigV4-verified, policy-authorized, into the broker."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from iot_policies.arns import PUBLISH, RETAIN_PUBLISH
from localcore.broker.denials import log_denial
from localcore.broker.errors import BrokerError
from localcore.broker.message import Message
from localcore.http.gateway import Gateway
from localcore.http.signing import verify_signed
from localcore.iam.principals import PrincipalPolicies
from localcore.identity.credentials import IssuedCredential
from localcore.iot.exceptions import ForbiddenException, InvalidRequestException
from localcore.iot.publish_request import parse_publish
from localcore.sigv4 import SigV4Verifier

DATA_SERVICES = frozenset({"iotdata", "iotdevicegateway"})
Publish = Callable[[Message], Awaitable[None]]


class IotDataApi:
    """`POST /topics/{topic}`: 200 `{"message":"OK","traceId"}`, 403 ForbiddenException when not allowed."""

    def __init__(
        self, principals: PrincipalPolicies, verifier: SigV4Verifier[IssuedCredential], publish: Publish
    ) -> None:
        self.principals = principals
        self.verifier = verifier
        self.publish_message = publish

    def mount(self, gateway: Gateway) -> None:
        gateway.add_route("POST", "/topics/{topic:.+}", self.publish, service="iot-data")

    async def publish(self, request: web.Request) -> web.StreamResponse:
        verified = await verify_signed(request, self.verifier, DATA_SERVICES)
        caller = verified.credential.caller
        trace_id = str(uuid.uuid4())
        raw_path = request.raw_path.partition("?")[0]
        headers = {key.lower(): value for key, value in request.headers.items()}
        message = parse_publish(raw_path, request.query, headers, await request.read(), caller.principal_id)
        context = self.principals.context(caller, source_ip=request.remote)
        actions = (PUBLISH, RETAIN_PUBLISH) if message.retain else (PUBLISH,)
        for action in actions:
            decision = self.principals.decide(caller, action, message.topic, context)
            if not decision.allowed:
                log_denial(action, message.topic, None, caller.principal_id, decision.reason)
                raise ForbiddenException("Forbidden")
        try:
            await self.publish_message(message)
        except BrokerError as error:
            raise InvalidRequestException(str(error)) from error
        return web.json_response({"message": "OK", "traceId": trace_id})
