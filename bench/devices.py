"""Devices on localcore: what provisioning, a certificate CONNECT and certificate-authorized publishing cost.

    python -m bench.devices [--connects 40] [--messages 2000] [--plot devices.png]

One localcore in this process (mqtts on, no rules, AWS quotas off so the rate is localcore's, not AWS's 100/s).
Rows:
CreateKeysAndCertificate and CreateCertificateFromCsr through boto3 (RSA 2048 / P-256 key made locally);
CONNECT→CONNACK with paho over TLS and a client certificate, against plain-MQTT local mode in the same run (the
reference); QoS 1 publishes/s of one device whose certificate policy uses thing variables, against a local-mode
user. Prints a table and, with --plot, a bar chart of the ratios. No assertions.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clients.local_app import local_config
from localcore.app import LocalcoreConfig
from localcore.broker.limits import BrokerLimits
from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore, provision_device

LOCAL_USER = "us-east-1:00000000-0000-4000-8000-0000000000be"
THING = "arn:aws:iot:*:*:{}/${{iot:Connection.Thing.ThingName}}{}"
DEVICE_POLICY = {  # AWS's thing-policy shape: connect as the attached thing, publish under its name
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": THING.format("client", ""),
            "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
        },
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": THING.format("topic/things", "/*")},
    ],
}


def timings(call: Callable[[], object], count: int) -> list[float]:
    """Milliseconds per call, `count` calls."""
    results = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        results.append((time.perf_counter() - start) * 1000)
    return results


def p(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def csr() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )


def connect_once(factory: Callable[[], MqttTestClient]) -> None:
    client = factory().connect()
    client.disconnect()


def publish_rate(client: MqttTestClient, topic: str, messages: int) -> float:
    start = time.perf_counter()
    for _ in range(messages):
        client.publish(topic, b"{}", qos=1)
    return messages / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connects", type=int, default=40)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-devices-") as scratch:
        no_rules = Path(scratch) / "no-rules"  # publishes only route: no rule, no Lambda in either row
        no_rules.mkdir()
        config = local_config(mqtts_port=0, limits=BrokerLimits.unlimited(), rules_dir=no_rules)
        run(config, Path(scratch), args)


def run(config: LocalcoreConfig, scratch: Path, args: argparse.Namespace) -> None:
    with RunningLocalcore(config) as stack:
        iot = stack.client("iot")
        made = timings(lambda: iot.create_keys_and_certificate(), 20)
        from_csr = timings(lambda: iot.create_certificate_from_csr(certificateSigningRequest=csr()), 20)
        device = provision_device(iot, scratch, DEVICE_POLICY, "bench-sensor")

        def local() -> MqttTestClient:
            return MqttTestClient(stack.mqtt_port, LOCAL_USER, username=LOCAL_USER)

        tls = timings(lambda: connect_once(lambda: stack.device_client(device)), args.connects)
        plain = timings(lambda: connect_once(local), args.connects)
        with stack.device_client(device).connect() as certified, local().connect() as user:
            certified_rate = publish_rate(certified, f"things/{device.thing}/telemetry", args.messages)
            local_rate = publish_rate(user, f"chat/{LOCAL_USER}/prompt", args.messages)
    print("| measure | p50 ms | p99 ms |\n|---|---:|---:|")
    for name, values in (
        ("CreateKeysAndCertificate (boto3, RSA 2048)", made),
        ("CreateCertificateFromCsr (boto3, P-256)", from_csr),
        ("CONNECT→CONNACK, TLS + client certificate", tls),
        ("CONNECT→CONNACK, plain MQTT local mode (reference)", plain),
    ):
        print(f"| {name} | {p(values, 0.5):.1f} | {p(values, 0.99):.1f} |")
    print("\n| QoS 1 publishes, one client | per second |\n|---|---:|")
    print(f"| certificate, thing-variable policy | {certified_rate:,.0f} |")
    print(f"| local mode (reference) | {local_rate:,.0f} |")
    connect_ratio = statistics.median(tls) / statistics.median(plain)
    publish_ratio = certified_rate / local_rate
    print(
        f"\nTLS connect / plain connect (median): {connect_ratio:.2f}×; publish rate, certificate / local mode: "
        f"{publish_ratio:.2f}×"
    )
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(6, 3))
        axis.bar(
            ["connect time\n(TLS cert / plain)", "publish rate\n(cert / local mode)"],
            [connect_ratio, publish_ratio],
        )
        axis.axhline(1.0, color="grey", linewidth=0.8)
        axis.set_ylabel("ratio to the reference")
        figure.tight_layout()
        figure.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
