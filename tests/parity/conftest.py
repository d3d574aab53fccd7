"""One parity suite, two targets, both read from a file in the `cdk deploy --outputs-file` format.

- localcore (default, part of `make test`): `iotstream up` runs as a subprocess with free ports, AWS-like
  settings (no local mode) and the scripted model; it writes the outputs file itself. Admin calls use the
  local admin keys from its ready file.
- AWS: `IOTSTREAM_PARITY=1 IOTSTREAM_CDK_OUTPUTS=cdk-outputs.json pytest tests/parity` against a deployment;
  admin calls (AdminCreateUser, ...) use boto3's default credential chain. Users are created without any mail
  (AdminCreateUser + AdminSetUserPassword) and deleted at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.config import ClientConfig
from tests.support.parity import ParityUsers, Target
from tests.support.up_process import FREE_PORTS

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90
# The scripted model streams ~4 s per answer on localcore: long enough for a cancel to land mid-stream.
LOCAL_SCRIPT = " ".join(f"word{i}" for i in range(100)) + "."
LOCAL_TOKENS_PER_S = "25"


class LocalcoreProcess:
    """`iotstream up` in a subprocess; ready when it prints its ready line, stopped with SIGINT."""

    def __init__(self, state_dir: Path) -> None:
        self.ready_file = state_dir / "ready.json"
        self.outputs = state_dir / "cdk-outputs.json"
        command = [sys.executable, "-m", "clients.cli", "up", *FREE_PORTS, "--state-dir", str(state_dir)]
        command += ["--ready-file", str(self.ready_file), "--cdk-outputs", str(self.outputs)]
        command += ["--no-local-mode", "--llm", "scripted"]
        command += ["--env", f"SCRIPTED_TEXT={LOCAL_SCRIPT}"]
        command += ["--env", f"SCRIPTED_TOKENS_PER_S={LOCAL_TOKENS_PER_S}"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def wait_ready(self) -> None:
        """Read its output until the ready line; a watchdog kills it if that never comes."""
        watchdog = threading.Timer(START_TIMEOUT_S, self.process.kill)
        watchdog.start()
        try:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                if "localcore ready" in line:
                    return
        finally:
            watchdog.cancel()
        _, errors = self.process.communicate(timeout=10)
        raise RuntimeError(f"iotstream up did not start:\n{errors[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def aws_outputs() -> Path | None:
    """The outputs file of a real deployment when the suite is pointed at AWS, else None."""
    if os.environ.get("IOTSTREAM_PARITY") != "1":
        return None
    path = os.environ.get("IOTSTREAM_CDK_OUTPUTS")
    if not path:
        raise pytest.UsageError("IOTSTREAM_PARITY=1 needs IOTSTREAM_CDK_OUTPUTS=<cdk deploy --outputs-file>")
    return Path(path)


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    outputs = aws_outputs()
    if outputs is not None:
        yield Target("aws", ClientConfig.from_cdk_outputs(outputs))
        return
    local = LocalcoreProcess(tmp_path_factory.mktemp("parity-localcore"))
    try:
        local.wait_ready()
        endpoints = json.loads(local.ready_file.read_text())
        admin = {
            "aws_access_key_id": endpoints["admin_access_key_id"],
            "aws_secret_access_key": endpoints["admin_secret_access_key"],
        }
        yield Target("localcore", ClientConfig.from_cdk_outputs(local.outputs), admin)
    finally:
        local.stop()


@pytest.fixture(scope="session")
def users(target: Target) -> Iterator[ParityUsers]:
    made = ParityUsers(target)
    yield made
    made.delete_all()
