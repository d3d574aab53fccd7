"""The account's IoT data endpoint (ATS), looked up at deploy time with `iot:DescribeEndpoint`."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct


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
