"""The account's IoT data endpoint (ATS), looked up at deploy time with `iot:DescribeEndpoint`."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk.parts.nag import acknowledge

PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"
"""The construct id of the single function behind every `AwsCustomResource` of a stack."""


class IotDataEndpoint(Construct):
    """`address` is the host name `xxxx-ats.iot.<region>.amazonaws.com` (no scheme)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        call = cr.AwsSdkCall(
            service="Iot",
            action="describeEndpoint",
            parameters={"endpointType": "iot:Data-ATS"},
            physical_resource_id=cr.PhysicalResourceId.from_response("endpointAddress"),
        )
        lookup = cr.AwsCustomResource(
            self,
            "Lookup",
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["iot:DescribeEndpoint"], resources=["*"])]
            ),
            install_latest_aws_sdk=False,
        )
        self.address = lookup.get_response_field("endpointAddress")
        acknowledge(
            lookup,
            "IAM5[Resource::*]",
            "iot:DescribeEndpoint has no resource type; it reads only a host name.",
        )
        acknowledge(
            Stack.of(self).node.find_child(PROVIDER_ID),
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The CDK custom-resource function only writes its own CloudWatch Logs with this policy.",
        )
