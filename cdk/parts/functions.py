"""Lambda functions, one per entry of `lambdas/iotstream_lambdas/functions.json`, all from the `lambdas/` asset folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.parts.nag import acknowledge
from cdk.parts.naming import pascal
from cdk.sources import FunctionSpec

ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/tests", "*.md"]


class Functions(Construct):
    """Python 3.12 functions with handler, timeout, memory and environment from the manifest.

    `common_environment` is added to every function (after the manifest's own values); per-function
    wiring (extra variables, grants) is done by the stack through `by_name`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Mapping[str, FunctionSpec],
        asset_dir: Path,
        layer_arn: str,
        common_environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(str(asset_dir), exclude=ASSET_EXCLUDES)
        layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", layer_arn)
        self.by_name: dict[str, lambda_.Function] = {}
        for name, spec in specs.items():
            logs_group = logs.LogGroup(
                self,
                f"{pascal(name)}Logs",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=RemovalPolicy.DESTROY,
            )
            self.by_name[name] = lambda_.Function(
                self,
                pascal(name),
                runtime=lambda_.Runtime.PYTHON_3_12,
                architecture=lambda_.Architecture.X86_64,
                code=code,
                handler=spec.handler,
                description=spec.description,
                timeout=Duration.seconds(spec.timeout_seconds),
                memory_size=spec.memory_mb,
                reserved_concurrent_executions=spec.reserved_concurrency,
                environment={**spec.environment, **common_environment},
                layers=[layer],
                log_group=logs_group,
            )
            function = self.by_name[name]
            acknowledge(
                function,
                "L1",
                "Python 3.12 matches the public Powertools layer the functions use "
                "(AWSLambdaPowertoolsPythonV3-python312); it is a supported Lambda runtime.",
            )
            acknowledge(
                function,
                "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch Logs.",
            )

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.by_name[name]
