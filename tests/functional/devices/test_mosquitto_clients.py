"""The real `mosquitto_pub` / `mosquitto_sub` (Debian's mosquitto-clients, installed by scripts/setup.sh) connect with `--cafile/--cert/--key`
unmodified, as they do to AWS IoT Core on port 8883 (https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html);
an INACTIVE certificate is refused ("Connection Refused: not authorised", MQTT 3.1.1 return code 5)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from localcore.testing import RunningLocalcore
from tests.support.device_support import THING_POLICY, Device, provision

# The publisher may also write to other things' inboxes (what a fleet controller would be allowed).
CONTROLLER_POLICY = {
    **THING_POLICY,
    "Statement": [
        *THING_POLICY["Statement"],
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:*:*:topic/things/*/inbox"},
    ],
}


def tls_options(stack: RunningLocalcore, device: Device) -> list[str]:
    return [
        "-h", "localhost",
        "-p", str(stack.mqtts_port),
        "--cafile", str(stack.endpoints["ca_file"]),
        "--cert", str(device.cert_file),
        "--key", str(device.key_file),
        "-i", device.thing,
    ]  # fmt: skip


def test_mosquitto_sub_receives_what_mosquitto_pub_sends(stack: RunningLocalcore, tmp_path: Path) -> None:
    """Two devices, each with its own certificate: mosquitto_sub (-d prints the SUBACK, line-buffered by stdbuf,
    so the publish waits for the subscription) receives the one message mosquitto_pub sends, at QoS 1."""
    iot = stack.client("iot")
    listener, controller = provision(iot, tmp_path), provision(iot, tmp_path, CONTROLLER_POLICY)
    inbox = f"things/{listener.thing}/inbox"
    options = ["-t", inbox, "-q", "1", "-C", "1", "-d", "-W", "20"]
    command = ["stdbuf", "-oL", "mosquitto_sub", *tls_options(stack, listener), *options]
    subscriber = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert subscriber.stdout is not None
        for line in subscriber.stdout:
            if "received SUBACK" in line:
                break
        published = subprocess.run(
            ["mosquitto_pub", *tls_options(stack, controller), "-t", inbox, "-m", "reboot", "-q", "1"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert published.returncode == 0, published.stderr
        output, _ = subscriber.communicate(timeout=20)
    finally:
        subscriber.kill()
    assert subscriber.returncode == 0
    assert "reboot" in output.splitlines()


def test_mosquitto_pub_with_an_inactive_certificate_is_refused(
    stack: RunningLocalcore, tmp_path: Path
) -> None:
    """Only ACTIVE certificates authenticate (API_UpdateCertificate.html): mosquitto_pub exits non-zero with the
    broker's refusal."""
    device = provision(stack.client("iot"), tmp_path, active=False)
    published = subprocess.run(
        ["mosquitto_pub", *tls_options(stack, device), "-t", f"things/{device.thing}/x", "-m", "hello"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert published.returncode != 0
    assert "not authorised" in published.stderr
