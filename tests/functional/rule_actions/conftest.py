"""One running localcore for the AWS-service rule actions, and what their tests share: roles IoT may assume
(created with boto3's `iam` client, as on AWS), rules created with CreateTopicRule, messages published as a
device would, and the errorAction messages collected from an SQS queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.local_app import local_config
from localcore.testing import RunningLocalcore
from tests.support.rule_actions import Rules


@pytest.fixture(scope="package")
def stack() -> Iterator[RunningLocalcore]:
    with RunningLocalcore(local_config()) as running:
        yield running


@pytest.fixture
def rules(stack: RunningLocalcore) -> Rules:
    return Rules(stack)
