"""Attack matrix, resources: idle sockets against the HTTP gateway. They once took every file descriptor of the
process (no credentials needed), so new MQTT and Cognito connections failed and the victim's stream stopped:
the prompt function publishes its answer and keeps its state through the gateway.

`iotstream up` runs in its own process with a small open-files limit it may not raise (256), and the attacker
opens more idle sockets than that. The gateway keeps at most a quarter of the descriptors (localcore/http/
connections.py: header deadline, cap, the oldest unhandled connection closed to make room), so the victim
signs in, connects, streams a whole answer, and the broker still accepts connections."""

from __future__ import annotations

import json
import resource
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.config import ClientConfig
from clients.session import sign_in, sign_up
from tests.support.session_support import PASSWORD, SCRIPT, CrtClient, response_filter
from tests.support.up_process import FREE_PORTS

ROOT = Path(__file__).resolve().parents[3]
OPEN_FILES = 256
IDLE_SOCKETS = 2 * OPEN_FILES


def _limited_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


@pytest.fixture(scope="module")
def small_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientConfig]:
    state = tmp_path_factory.mktemp("idle-sockets")
    ready = state / "ready.json"
    command = [sys.executable, "-m", "clients.cli", "up", "--llm", "scripted", "--no-local-mode"]
    command += FREE_PORTS
    command += ["--state-dir", str(state), "--ready-file", str(ready)]
    command += ["--env", f"SCRIPTED_TEXT={SCRIPT}", "--env", "SCRIPTED_TOKENS_PER_S=2000"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=_limited_open_files,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "localcore ready" in line:
                break
        yield ClientConfig.from_localcore(json.loads(ready.read_text()))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _user(config: ClientConfig) -> str:
    username = f"user-{uuid.uuid4().hex[:10]}"
    sign_up(config, username, PASSWORD, f"{username}@example.com")  # `up` confirms sign-ups itself
    return username


def _idle_socket(port: int) -> socket.socket:
    """A connection that will never send a byte (non-blocking: the attacker does not wait for the accept)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.connect_ex(("127.0.0.1", port))
    return sock


def test_idle_sockets_cannot_take_the_descriptors_the_victim_needs(small_stack: ClientConfig) -> None:
    """Twice the process's open-files limit in idle gateway sockets: the victim still signs in (Cognito over
    the gateway), connects (broker), and streams a whole answer (the function's iot-data and DynamoDB calls
    go through the gateway); another user signs in and connects afterwards."""
    config = small_stack
    victim = sign_in(config, _user(config), PASSWORD)
    victim_client = CrtClient.open(victim)
    assert victim_client.subscribe(response_filter(victim.identity_id)) == 1
    http_port = int(config.endpoint_url.rsplit(":", 1)[1]) if config.endpoint_url else 0
    idle = [_idle_socket(http_port) for _ in range(IDLE_SOCKETS)]
    try:
        rid = victim_client.prompt(victim, "are you still there?")
        assert victim_client.stream(rid).text == SCRIPT
        assert not victim_client.interrupted.is_set()
        latecomer = sign_in(config, _user(config), PASSWORD)
        CrtClient.open(latecomer).close()
    finally:
        for sock in idle:
            sock.close()
        victim_client.close()
