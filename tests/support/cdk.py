"""The CDK app synthesized in process (aws-cdk-lib), and lookups in its template."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from cdk.config import DeployConfig
from cdk.stack import IotStreamStack

ACCOUNT = "123456789012"
REGION = "eu-west-1"


@dataclass(frozen=True)
class Synth:
    template: Template
    json: dict[str, Any]
    config: DeployConfig
    outdir: Path

    def text(self, value: Any) -> Any:
        """Render `Fn::Join` over literals and `Ref AWS::Partition` (as "aws"); anything else is returned as is."""
        if isinstance(value, dict) and set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            rendered = [self.text(part) for part in parts]
            if all(isinstance(part, str) for part in rendered):
                return separator.join(rendered)
        if value == {"Ref": "AWS::Partition"}:
            return "aws"
        if isinstance(value, list):
            return [self.text(item) for item in value]
        if isinstance(value, dict):
            return {key: self.text(item) for key, item in value.items()}
        return value

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == kind}

    def one(self, kind: str, **properties: Any) -> tuple[str, dict[str, Any]]:
        """The single resource of `kind` whose properties include `properties`."""
        found = [
            (logical_id, resource)
            for logical_id, resource in self.resources(kind).items()
            if all(resource["Properties"].get(key) == value for key, value in properties.items())
        ]
        assert len(found) == 1, f"expected one {kind} with {properties}, found {[f[0] for f in found]}"
        return found[0]


def synthesize(outdir: Path, config: DeployConfig) -> Synth:
    """The stack for `config` in eu-west-1, synthesized with the cdk-nag AwsSolutions checks."""
    app = App(outdir=str(outdir))
    stack = IotStreamStack(app, "IotStream", config=config, env=Environment(account=ACCOUNT, region=REGION))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    template = Template.from_stack(stack)
    return Synth(template=template, json=template.to_json(), config=config, outdir=outdir)
