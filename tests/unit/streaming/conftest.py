"""Real endpoints for the streaming tests: moto's DynamoDB server and an iot-data Publish sink.

Both listen on 127.0.0.1 with port 0 and are reached through real boto3 clients.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from iotstream_lambdas.streaming.state import StateStore, create_state_table
from tests.support.streaming import IotDataSink, dynamodb_client, one_at_a_time


@pytest.fixture
def iot_sink() -> Iterator[IotDataSink]:
    sink = IotDataSink()
    yield sink
    sink.close()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    app = one_at_a_time(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def dynamodb(moto_url: str) -> Any:
    return dynamodb_client(moto_url)


@pytest.fixture
def store(dynamodb: Any) -> StateStore:
    name = f"state-{uuid.uuid4().hex[:12]}"
    create_state_table(dynamodb, name)
    return StateStore(dynamodb, name)
