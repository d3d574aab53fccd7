"""Synthesize the stack once per test session (synth through jsii takes seconds) and share the template."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from cdk.config import DeployConfig
from cdk.stack import IotStreamStack

ACCOUNT = "123456789012"
REGION = "eu-west-1"


@dataclass(frozen=True)
class Synth:
    template: Template
    json: dict[str, Any]
    config: DeployConfig

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


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    app = App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    config = DeployConfig()  # the project's own iot_policies/, iot_rules/ and lambdas/
    stack = IotStreamStack(app, "IotStream", config=config, env=Environment(account=ACCOUNT, region=REGION))
    template = Template.from_stack(stack)
    return Synth(template=template, json=template.to_json(), config=config)


@pytest.fixture(scope="session")
def source_policy(synth: Synth):
    def read(name: str) -> dict[str, Any]:
        return json.loads((synth.config.policies_dir / name).read_text())

    return read
