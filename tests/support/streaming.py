"""Real endpoints for the streaming tests: an iot-data Publish sink and a moto server app, on 127.0.0.1 port 0, reached through real boto3 clients."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from iotstream_lambdas.streaming.wire import Event, decode_event


def iot_data_client(endpoint_url: str) -> Any:
    """A real boto3 iot-data client pointed at a local endpoint, with dummy credentials."""
    return boto3.client(
        "iot-data",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def dynamodb_client(endpoint_url: str) -> Any:
    """A real boto3 DynamoDB client pointed at a local endpoint, with dummy credentials."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def prompt_event(identity_id: str, text: str = "Hi", rid: str | None = None) -> dict[str, Any]:
    """A prompt as the IoT rule hands it to the function (docs/protocol.md): a new rid unless one is given."""
    return {"v": 1, "rid": rid or str(uuid.uuid4()), "text": text, "identity_id": identity_id}


@dataclass(frozen=True)
class Published:
    topic: str
    qos: int
    payload: bytes


class IotDataSink:
    """Accepts iot-data `Publish` (`POST /topics/{topic}?qos=`) like AWS IoT's HTTPS endpoint and records it."""

    def __init__(self) -> None:
        self.messages: list[Published] = []
        self.fail_next = 0
        self.fail_prefix = ""
        """Every publish on a topic starting with this fails (500), when set."""
        self.hold_prefix = ""
        """Publishes on a topic starting with this wait for `released`, when set."""
        self.released = threading.Event()
        self._cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not parts.path.startswith("/topics/"):
                    self._reply(404, {"message": "Not Found"})
                    return
                topic = unquote(parts.path[len("/topics/") :])
                if sink.hold_prefix and topic.startswith(sink.hold_prefix):
                    sink.released.wait(30)
                with sink._cond:
                    failing = bool(sink.fail_prefix) and topic.startswith(sink.fail_prefix)
                    if sink.fail_next > 0 or failing:
                        sink.fail_next -= 0 if failing else 1
                        self._reply(500, {"message": "Internal failure"}, "InternalFailureException")
                        return
                    qos = int(parse_qs(parts.query).get("qos", ["0"])[0])
                    sink.messages.append(Published(topic, qos, body))
                    sink._cond.notify_all()
                self._reply(200, {"message": "OK", "traceId": str(uuid.uuid4())})

            def _reply(self, status: int, body: dict[str, Any], error_type: str | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def on(self, topic: str) -> list[Published]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def events(self, topic: str) -> list[Event]:
        return [decode_event(m.payload) for m in self.on(topic)]

    def wait_until(self, predicate: Callable[[list[Published]], bool], timeout: float = 10.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.messages), timeout), "sink condition not met"

    def client(self) -> Any:
        return iot_data_client(self.url)


def one_at_a_time(app: Any) -> Any:
    """The WSGI app behind a lock: moto's backends are not thread-safe, while DynamoDB applies each request
    (a transaction included) atomically (API_TransactWriteItems.html: "isolated"); without the lock, two
    racing conditional writes could both pass their condition."""
    lock = threading.Lock()

    def serialised(environ: Any, start_response: Any) -> Any:
        with lock:
            return list(app(environ, start_response))

    return serialised


@contextmanager
def serving_moto() -> Iterator[str]:
    """moto's server (every service, moto's default account) on 127.0.0.1, port 0, in this process: its URL."""
    app = one_at_a_time(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(10)
