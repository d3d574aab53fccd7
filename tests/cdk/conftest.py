"""Synthesize the stack once per test session (synth through jsii takes seconds) and share the template.

The synth runs the cdk-nag AwsSolutions pack (cdk-nag 3 is a CDK policy-validation plugin): an unacknowledged
finding fails the synth, and so every CDK test; `test_cdk_nag.py` reads the validation report.
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import json
from typing import Any

import pytest

from cdk.config import DeployConfig
from tests.support.cdk import Synth, synthesize


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The default deployment (the project's own iot_policies/, iot_rules/ and lambdas/)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"), DeployConfig())


@pytest.fixture(scope="session")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A deployment with every optional knob turned: a geographic inference profile, reserved concurrency,
    admin-only sign-up, no account-level IoT logging, an alarm e-mail."""
    config = DeployConfig(
        bedrock_model_id="eu.amazon.nova-2-lite-v1:0",
        prompt_reserved_concurrency=25,
        self_sign_up=False,
        retain_data=False,
        iot_logging=False,
        alarm_email="ops@example.com",
        prompts_per_minute=3,
    )
    return synthesize(tmp_path_factory.mktemp("cdk.out.tuned"), config)


@pytest.fixture(scope="session")
def source_policy(synth: Synth):
    def read(name: str) -> dict[str, Any]:
        return json.loads((synth.config.policies_dir / name).read_text())

    return read
