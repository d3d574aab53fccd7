"""IAM for localcore's signed HTTP APIs: verify the SigV4 signature, then the caller's role policy."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from aiohttp import web

from iot_policies.evaluator import Decision
from localcore.http.errors import AwsServiceError
from localcore.http.signing import verify_signed
from localcore.iam.principals import PrincipalPolicies
from localcore.identity.credentials import Caller, IssuedCredential
from localcore.sigv4 import SigV4Verifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IamAuthorizer:
    """`authorize(request, services, action, arn)`: the verified caller, or AWS's 403 error."""

    verifier: SigV4Verifier[IssuedCredential]
    principals: PrincipalPolicies

    async def authorize(
        self, request: web.Request, services: Collection[str], action: str, resource_arn: str = "*"
    ) -> Caller:
        return await self.authorize_all(request, services, [(action, resource_arn)])

    async def authorize_all(
        self, request: web.Request, services: Collection[str], needs: Iterable[tuple[str, str]]
    ) -> Caller:
        """Verify the signature once, then every (action, resource ARN) the request needs; the first refusal
        is AWS's AccessDeniedException, worded as IAM words it (the deciding statement is logged only)."""
        verified = await verify_signed(request, self.verifier, services)
        caller = verified.credential.caller
        context = self.principals.context(caller, source_ip=request.remote)
        for action, resource_arn in needs:
            decision = self.principals.decide_arn(caller, action, resource_arn, context)
            if not decision.allowed:
                log.info(
                    "access denied: %s %s on %s (%s)", caller.user_arn, action, resource_arn, decision.reason
                )
                raise access_denied(caller, decision)
        return caller


def access_denied(caller: Caller, decision: Decision) -> AwsServiceError:
    """IAM's AccessDeniedException text (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html)."""
    why = (
        "with an explicit deny in an identity-based policy"
        if decision.statement is not None
        else f"because no identity-based policy allows the {decision.action} action"
    )
    return AwsServiceError(
        "AccessDeniedException",
        f"User: {caller.user_arn} is not authorized to perform: {decision.action} on resource: "
        f"{decision.resource} {why}",
        403,
    )
