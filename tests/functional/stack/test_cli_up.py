"""`iotstream up`: the whole local stack in the foreground, with a ready file listing every endpoint and the same
endpoints in the CDK outputs format; Ctrl-C stops it cleanly."""

from __future__ import annotations

import dataclasses
import json
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

from clients.config import ClientConfig
from localcore.broker.testing import MqttTestClient
from tests.support.up_process import FREE_PORTS

ROOT = Path(__file__).resolve().parents[3]


def test_up_writes_ready_file_serves_and_stops_on_sigint(tmp_path):
    """docs/architecture.md command line: `iotstream up --ready-file F` writes JSON with every endpoint once ready."""
    ready = tmp_path / "ready.json"
    command = [
        sys.executable,
        "-m",
        "clients.cli",
        "up",
        *FREE_PORTS,
        "--llm",
        "scripted",
    ]
    command += ["--state-dir", str(tmp_path / "state"), "--ready-file", str(ready)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: list[str] = []
    try:
        assert process.stdout is not None
        printed = []
        for line in process.stdout:
            printed.append(line)
            if "localcore ready" in line:
                break
            printed.append(line)
        endpoints = json.loads(ready.read_text())
        assert any(f"chat {endpoints['http']}/" in line for line in printed)
        # The ready file repeats the state dir's admin secret, which `up` prints: both are the owner's only.
        admin = json.loads((tmp_path / "state" / "admin-credentials.json").read_text())
        assert endpoints["admin_secret_access_key"] == admin["SecretAccessKey"]
        assert f"AWS_SECRET_ACCESS_KEY={admin['SecretAccessKey']}" in "".join(printed)
        assert stat.S_IMODE(ready.stat().st_mode) == 0o600
        assert {"mqtt", "mqtts", "ws", "wss", "ca_file", "http", "user_pool_id", "attach_policy_url"} <= set(
            endpoints
        )
        assert endpoints["environment"]["AWS_ENDPOINT_URL_IOT_DATA_PLANE"] == endpoints["http"]
        assert endpoints["ws"].startswith("ws://127.0.0.1:") and endpoints["ws"].endswith("/mqtt")
        assert Path(endpoints["ca_file"]).is_file()
        outputs = tmp_path / "state" / "cdk-outputs.json"  # the default place, beside the local CA
        local = dataclasses.replace(ClientConfig.from_localcore(endpoints), ca_file=None)  # ws:// needs no CA
        assert ClientConfig.from_cdk_outputs(outputs) == local
        port = int(endpoints["mqtt"].rsplit(":", 1)[1])
        user = "us-east-1:abc"
        with MqttTestClient(port, user, username=user) as c:  # local mode: username = identity id
            c.connect()
            assert c.subscribe(f"chat/{user}/response/+") == [1]
        with urllib.request.urlopen(endpoints["http"] + "/config.json", timeout=10) as response:
            web_config = json.loads(response.read())  # the browser pages' target (docs/web.md)
        assert web_config["cognitoEndpoint"] == endpoints["http"]
        assert web_config["attachPolicyUrl"] == endpoints["attach_policy_url"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
    assert not ready.exists() and not outputs.exists()
