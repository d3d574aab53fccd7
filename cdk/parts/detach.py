"""Detach on the way out: a custom resource that detaches every target of the stack's IoT policies on delete.

The attach-policy function attaches policies to Cognito identities at sign-in; CloudFormation does not know
those attachments, and IoT refuses to delete an attached policy (DeleteConflictException), so without this a
stack deletion fails on the policies. The resource references the policies (so CloudFormation deletes it
first) and the handler's function (so the function and its permissions outlive it).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.parts.nag import acknowledge_wildcards


class PolicyDetacher(Construct):
    """`Custom::IotPolicyDetacher` served by `lambdas/iotstream_lambdas/detach_policies` with exactly the rights it uses."""

    def __init__(
        self, scope: Construct, construct_id: str, *, function: lambda_.Function, policy_names: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        policy_arns = [
            stack.format_arn(
                service="iot", resource="policy", resource_name=name, arn_format=ArnFormat.SLASH_RESOURCE_NAME
            )
            for name in policy_names
        ]
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["iot:ListTargetsForPolicy"], resources=policy_arns)
        )
        # DetachPolicy is authorised on its target; IAM names only certificate and thing-group targets
        # (service-authorization list_awsiot.html), and a Cognito identity has no ARN: `*` is the only way.
        function.add_to_role_policy(iam.PolicyStatement(actions=["iot:DetachPolicy"], resources=["*"]))
        acknowledge_wildcards(
            function,
            ["*"],
            "iot:DetachPolicy is authorised on its target, and a Cognito identity target has no ARN.",
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=function.function_arn,
            resource_type="Custom::IotPolicyDetacher",
            properties={"PolicyNames": list(policy_names)},
        )
        self.resource.node.add_dependency(function)  # its role policy must still exist when Delete runs
