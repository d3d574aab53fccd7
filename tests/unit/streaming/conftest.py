"""Real endpoints for the streaming tests: moto's DynamoDB server and an iot-data Publish sink.

Both listen on 127.0.0.1 with port 0 and are reached through real boto3 clients.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from iotstream_lambdas.streaming.state import StateStore, create_state_table
from tests.support.streaming import IotDataSink, dynamodb_client, serving_moto


@pytest.fixture
def iot_sink() -> Iterator[IotDataSink]:
    sink = IotDataSink()
    yield sink
    sink.close()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with serving_moto() as url:
        yield url


@pytest.fixture
def dynamodb(moto_url: str) -> Any:
    return dynamodb_client(moto_url)


@pytest.fixture
def store(dynamodb: Any) -> StateStore:
    name = f"state-{uuid.uuid4().hex[:12]}"
    create_state_table(dynamodb, name)
    return StateStore(dynamodb, name)
