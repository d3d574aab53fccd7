"""IAM for localcore's signed HTTP APIs: verify the SigV4 signature, then the caller's role policy."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from aiohttp import web

from localcore.http.errors import AwsServiceError
from localcore.http.signing import verify_signed
from localcore.identity.credentials import Caller, IssuedCredential
from localcore.principal_policies import PrincipalPolicies
from localcore.sigv4 import SigV4Verifier


@dataclass(frozen=True)
class IamAuthorizer:
    """`authorize(request, services, action, arn)`: the verified caller, or AWS's 403 error."""

    verifier: SigV4Verifier[IssuedCredential]
    principals: PrincipalPolicies

    async def authorize(
        self, request: web.Request, services: Collection[str], action: str, resource_arn: str = "*"
    ) -> Caller:
        verified = await verify_signed(request, self.verifier, services)
        caller = verified.credential.caller
        context = self.principals.context(caller, source_ip=request.remote)
        decision = self.principals.decide_arn(caller, action, resource_arn, context)
        if not decision.allowed:
            raise AwsServiceError(
                "AccessDeniedException",
                f"User: {caller.user_arn} is not authorized to perform: {action} on resource: "
                f"{resource_arn} ({decision.reason})",
                403,
            )
        return caller
