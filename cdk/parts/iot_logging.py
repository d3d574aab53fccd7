"""AWS IoT's own logs (`AWS::IoT::Logging`) at ERROR: rules engine, authorization and connection errors go
to the `AWSIotLogsV2` log group (https://docs.aws.amazon.com/iot/latest/developerguide/configure-logging.html).

The setting is one per account and Region: CloudFormation cannot take it over when it was set another way
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iot-logging.html, note),
so the stack creates it only with `-c iotLogging=true` (the default; docs/deploy.md says what to do otherwise).

The role's trust is limited to this account (`aws:SourceAccount`), as AWS recommends for roles IoT assumes
(https://docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html). That page
does not list logging among its examples; if IoT did not send the key for logging, its logs would stop, and
`cdk deploy` would not tell: check that `AWSIotLogsV2` receives events after a first rule error.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from constructs import Construct

from cdk.parts.nag import acknowledge_wildcards

IOT_LOG_GROUP = "AWSIotLogsV2"
LOG_LEVEL = "ERROR"
# The actions of the AWS managed policy AWSIoTLogging, scoped here to IoT's own log group.
LOGGING_ACTIONS = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:PutMetricFilter",
    "logs:PutRetentionPolicy",
    "logs:GetLogEvents",
    "logs:DeleteLogStream",
]


class IotLogging(Construct):
    """The account's IoT logging at ERROR, with the role IoT assumes to write its log group."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "iot.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Lets AWS IoT write its ERROR logs to the AWSIotLogsV2 log group",
        )
        group = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=IOT_LOG_GROUP,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=LOGGING_ACTIONS, resources=[group, f"{group}:*"]))
        acknowledge_wildcards(
            self.role, [f"{group}:*"], "The log streams IoT creates in its own log group, AWSIotLogsV2."
        )
        self.logging = iot.CfnLogging(
            self,
            "Logging",
            account_id=stack.account,
            default_log_level=LOG_LEVEL,
            role_arn=self.role.role_arn,
        )
        self.logging.node.add_dependency(self.role)
