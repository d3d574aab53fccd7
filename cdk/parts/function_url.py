"""The attach-policy function's URL: AWS_IAM auth, invocable only by the identity pool's roles."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

SIGV4_HEADERS = [
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
]


class IamFunctionUrl(Construct):
    """A function URL with `AuthType: AWS_IAM`; callers are granted it in their identity policy.

    Since October 2025 a function URL needs both `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). The second is limited by
    `lambda:InvokedViaFunctionUrl`, so the roles cannot call `Invoke` directly with a forged
    `requestContext` (the function trusts the authorizer's identity in it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.Function,
        callers: Sequence[iam.IRole],
        allowed_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.url = function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.AWS_IAM,
            cors=lambda_.FunctionUrlCorsOptions(
                allowed_origins=list(allowed_origins),
                allowed_methods=[lambda_.HttpMethod.POST],
                allowed_headers=SIGV4_HEADERS,
                max_age=Duration.hours(1),
            ),
        )
        policy = iam.Policy(
            self,
            "InvokePolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunctionUrl"],
                    resources=[function.function_arn],
                    conditions={"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
                ),
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=[function.function_arn],
                    conditions={"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
                ),
            ],
        )
        for role in callers:
            policy.attach_to_role(role)
