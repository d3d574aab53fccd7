"""Rule actions' AWS calls, made as the action's role through localcore's own front door.

For each call the role is read from IAM (`roles.py`; again after any IAM change), its trust policy must let
IoT assume it for this rule, and the session gets keys of its own; the call is then an ordinary boto3
request to the gateway, so SigV4 and IAM decide exactly as for any other caller: a role without
`sqs:SendMessage` gets AccessDenied and the rule's errorAction runs. boto3 does not retry (the rules engine
reports the first failure, as AWS's does for these actions). The `http` action's POSTs go out here too,
SigV4-signed as their role when the action has `auth.sigv4`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import boto3
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from localcore.iam.admin_key import AdminCredentials
from localcore.identity.credentials import CredentialStore, IssuedCredential
from localcore.rules.service_calls import HttpAnswer, HttpDelivery, ServiceCall, ServiceCallError
from localcore.services.catalog import service_label
from localcore.services.front import AwsServices
from localcore.services.permissions.place import Place
from localcore.services.roles import RoleRecord, RoleUnusable, check_trust, read_role

SESSION_NAME = "iot-rules"
HTTP_TIMEOUT_SECONDS = 4.0  # AWS reports "Request timeout ... after 4000 ms" for the http action
_NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@dataclass(frozen=True)
class _Assumed:
    iam_writes: int
    record: RoleRecord
    credential: IssuedCredential


class RoleCaller:
    """Implements the rules engine's `ServiceCaller` against localcore's gateway at `url()`."""

    def __init__(
        self,
        services: AwsServices,
        store: CredentialStore,
        admin: AdminCredentials,
        url: Callable[[], str],
    ) -> None:
        self._services = services
        self._place: Place = services.place
        self._store = store
        self._admin = admin
        self._url = url
        self._lock = threading.Lock()
        self._assumed: dict[str, _Assumed] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._http: aiohttp.ClientSession | None = None

    async def call(self, call: ServiceCall, rule: str) -> Mapping[str, Any]:
        return await asyncio.to_thread(self._call, call, rule)

    async def post(self, delivery: HttpDelivery, rule: str) -> HttpAnswer:
        headers = dict(delivery.headers)
        if delivery.sigv4 is not None:
            credential = await asyncio.to_thread(self._assume, delivery.sigv4["roleArn"], rule)
            headers = _signed(delivery, headers, credential)
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS))
        async with self._http.post(delivery.url, data=delivery.body, headers=headers) as response:
            body = await response.content.read(16385)
            return HttpAnswer(
                response.status, body, closed=response.headers.get("Connection", "").lower() == "close"
            )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _call(self, call: ServiceCall, rule: str) -> Mapping[str, Any]:
        credential = self._assume(call.role_arn, rule)
        client = self._client(credential, call.service)
        try:
            answer: Mapping[str, Any] = getattr(client, xform_name(call.operation))(**call.params)
        except ClientError as error:
            details = error.response.get("Error", {})
            metadata = error.response.get("ResponseMetadata", {})
            raise ServiceCallError(
                service_label(call.service),
                str(details.get("Code", "Unknown")),
                str(details.get("Message", "")),
                int(metadata.get("HTTPStatusCode", 400)),
                str(metadata.get("RequestId", "")),
            ) from None
        except BotoCoreError as error:  # parameters boto3 refuses, a connection that fails
            raise ServiceCallError(
                service_label(call.service), type(error).__name__, str(error), 400
            ) from None
        return answer

    def _assume(self, role_arn: str, rule: str) -> IssuedCredential:
        """The role's session keys, after its trust policy let IoT assume it for `rule`."""
        writes = self._services.writes("iam")
        with self._lock:
            assumed = self._assumed.get(role_arn)
        try:
            if assumed is None or assumed.iam_writes != writes:
                assumed = self._refresh(role_arn, writes, assumed)
            check_trust(assumed.record, self._place, self._place.arn("iot", f"rule/{rule}"))
        except RoleUnusable as error:
            raise ServiceCallError("AWS STS", "AccessDenied", str(error), 403) from None
        return assumed.credential

    def _refresh(self, role_arn: str, writes: int, old: _Assumed | None) -> _Assumed:
        record = read_role(self._client(None, "iam"), role_arn, self._place)
        if old is not None and old.record == record:
            credential = old.credential
        else:
            if old is not None:
                self._forget(old.credential.access_key_id)
            credential = self._store.mint_iam(record.as_role(self._place.account), SESSION_NAME)
        assumed = _Assumed(writes, record, credential)
        with self._lock:
            self._assumed[role_arn] = assumed
        return assumed

    def _forget(self, access_key_id: str) -> None:
        """The role's policy changed: its old session keys stop working, their clients go."""
        self._store.revoke(access_key_id)
        with self._lock:
            for key in [key for key in self._clients if key[0] == access_key_id]:
                del self._clients[key]

    def _client(self, credential: IssuedCredential | None, service: str) -> Any:
        """A boto3 client of `service` signed with `credential` (None: the admin key), made once."""
        key_id = credential.access_key_id if credential is not None else self._admin.access_key_id
        secret = credential.secret_key if credential is not None else self._admin.secret_access_key
        with self._lock:
            client = self._clients.get((key_id, service))
            if client is None:
                client = self._clients[(key_id, service)] = boto3.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self._url(),
                    region_name=self._place.region,
                    aws_access_key_id=key_id,
                    aws_secret_access_key=secret,
                    config=_NO_RETRIES,
                )
            return client


def _signed(delivery: HttpDelivery, headers: dict[str, str], credential: IssuedCredential) -> dict[str, str]:
    """The headers with SigV4 added for the action's `signingRegion` and `serviceName`
    (https://docs.aws.amazon.com/iot/latest/apireference/API_SigV4Authorization.html)."""
    assert delivery.sigv4 is not None
    request = AWSRequest(method="POST", url=delivery.url, data=delivery.body, headers=headers)
    keys = Credentials(credential.access_key_id, credential.secret_key, credential.session_token)
    SigV4Auth(keys, delivery.sigv4["serviceName"], delivery.sigv4["signingRegion"]).add_auth(request)
    return dict(request.headers.items())
