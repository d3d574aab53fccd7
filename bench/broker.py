"""Broker throughput and latency: localcore vs mosquitto, and localcore with policy enforcement vs AllowAll.

    python -m bench.broker [--scale 1.0] [--markdown]

Each broker runs in its own process on 127.0.0.1 (mosquitto from /usr/sbin/mosquitto with a generated config;
localcore via `python -m bench.broker --serve allow-all|local`). The same paho-mqtt harness drives all of them:
1→1, 1→50 and 50→1 at QoS 0 and 1 (messages delivered per second, first publish to last delivery), then
ping-pong latency (publish → delivery) p50/p99 at QoS 1. Bounded in count and time; no assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

IDENTITY = "bench-user"
SCENARIO_TIMEOUT = 60.0
# Shaped like iot_policies/user.json (variables, per-identity topics), but lets the bench publish responses.
BENCH_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": "arn:aws:iot:*:*:client/${cognito-identity.amazonaws.com:sub}-*",
        },
        {
            "Effect": "Allow",
            "Action": "iot:Publish",
            "Resource": "arn:aws:iot:*:*:topic/chat/${cognito-identity.amazonaws.com:sub}/response/*",
        },
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": "arn:aws:iot:*:*:topicfilter/chat/${cognito-identity.amazonaws.com:sub}/response/+",
        },
        {
            "Effect": "Allow",
            "Action": "iot:Receive",
            "Resource": "arn:aws:iot:*:*:topic/chat/${cognito-identity.amazonaws.com:sub}/response/*",
        },
        {"Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:*:*:topic/chat/*/prompt/denied"},
    ],
}


# ----------------------------------------------------------------------------------------------- brokers


@dataclass
class BrokerProcess:
    name: str
    port: int
    process: subprocess.Popen[str]

    def cpu_seconds(self) -> float:
        """User + system CPU time the broker process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"broker exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)  # bench start-up only: wait for an external process to listen
    raise TimeoutError(f"nothing listening on {port}")


def start_mosquitto(workdir: Path) -> BrokerProcess | None:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        return None
    port = _free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
        "max_inflight_messages 100\nmax_queued_messages 100000\n"
    )
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _wait_listening(port, process)
    return BrokerProcess("mosquitto", port, process)


def start_localcore(auth: str) -> BrokerProcess:
    command = [sys.executable, "-m", "bench.broker", "--serve", auth]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("port "):
        raise RuntimeError(f"localcore did not start: {line!r}")
    return BrokerProcess(f"localcore ({auth})", int(line.split()[1]), process)


async def _serve(auth: str) -> None:
    from iot_policies.document import parse_policy
    from localcore.broker.authorization import AllowAllAuthenticator, Authenticator
    from localcore.broker.limits import BrokerLimits
    from localcore.broker.local_auth import LocalModeAuthenticator
    from localcore.broker.server import BrokerServer, ServerConfig

    authenticator: Authenticator = AllowAllAuthenticator()
    if auth == "local":
        authenticator = LocalModeAuthenticator([parse_policy(BENCH_POLICY, "bench")])
    config = ServerConfig(mqtt_port=0, mqtts_port=None, ws_port=None, limits=BrokerLimits.unlimited())
    server = BrokerServer(config, authenticator)
    server.broker.lifecycle_events = True
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"port {server.mqtt_port}", flush=True)
    await stop.wait()
    await server.stop()


# ----------------------------------------------------------------------------------------------- harness


class BenchClient:
    """A paho client that counts deliveries and records latency (payload starts with the send time)."""

    def __init__(self, port: int, client_id: str) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311)
        self.client.username_pw_set(IDENTITY)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.port = port
        self.count = 0
        self.target = 0
        self.last = 0.0
        self.latencies: list[float] = []
        self.record_latency = False
        self.done = threading.Event()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.client.on_connect = lambda *a: self._connected.set()
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        self.count += 1
        self.last = time.perf_counter()
        if self.record_latency:
            self.latencies.append(time.perf_counter() - struct.unpack_from("!d", message.payload)[0])
        if self.count >= self.target:
            self.done.set()

    def connect(self) -> BenchClient:
        self.client.connect("127.0.0.1", self.port, keepalive=120)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise TimeoutError("no CONNACK")
        return self

    def subscribe(self, topic_filter: str, qos: int) -> None:
        self._subscribed.clear()
        self.client.subscribe(topic_filter, qos)
        if not self._subscribed.wait(10):
            raise TimeoutError("no SUBACK")

    def expect(self, count: int) -> None:
        self.count = 0
        self.target = count
        self.done.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def clients(port: int, prefix: str, count: int) -> Iterator[list[BenchClient]]:
    made = [BenchClient(port, f"{IDENTITY}-{prefix}{index}").connect() for index in range(count)]
    try:
        yield made
    finally:
        for each in made:
            each.close()


@dataclass
class Result:
    delivered: int
    expected: int
    seconds: float
    broker_cpu: float = 0.0

    @property
    def cpu_us_per_message(self) -> float:
        return self.broker_cpu / self.delivered * 1e6 if self.delivered else float("nan")

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


def topic_for(sequence: int) -> str:
    return f"chat/{IDENTITY}/response/{sequence // 50}"  # a new "request id" every 50 chunks


def run_scenario(port: int, publishers: int, subscribers: int, qos: int, per_publisher: int) -> Result:
    with clients(port, "sub", subscribers) as subs, clients(port, "pub", publishers) as pubs:
        for sub in subs:
            sub.subscribe(f"chat/{IDENTITY}/response/+", qos)
            sub.expect(publishers * per_publisher)
        payload = b"x" * 200

        def publish_all(pub: BenchClient) -> None:
            for sequence in range(per_publisher):
                pub.client.publish(topic_for(sequence), payload, qos=qos)

        start = time.perf_counter()
        threads = [threading.Thread(target=publish_all, args=(pub,)) for pub in pubs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SCENARIO_TIMEOUT)
        deadline = start + SCENARIO_TIMEOUT
        seen = -1
        while time.perf_counter() < deadline and not all(sub.done.is_set() for sub in subs):
            delivered = sum(sub.count for sub in subs)
            if delivered == seen:
                break  # no progress for a second: the rest was dropped (QoS 0)
            seen = delivered
            for sub in subs:
                sub.done.wait(1.0 / len(subs))
        # The last delivery bounds the measurement (idle time waiting for dropped messages is not counted).
        elapsed = max(sub.last for sub in subs) - start
        delivered = sum(sub.count for sub in subs)
        return Result(delivered, publishers * per_publisher * subscribers, elapsed)


def run_latency(port: int, samples: int) -> tuple[float, float]:
    with clients(port, "lat-sub", 1) as (sub,), clients(port, "lat-pub", 1) as (pub,):
        sub.subscribe(f"chat/{IDENTITY}/response/+", 1)
        sub.record_latency = True
        for index in range(samples):
            sub.expect(1)
            pub.client.publish(topic_for(index), struct.pack("!d", time.perf_counter()) + b"x" * 100, qos=1)
            if not sub.done.wait(5):
                break
        values = sorted(sub.latencies)
    if not values:
        return float("nan"), float("nan")
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return statistics.median(values) * 1000, p99 * 1000


SCENARIOS = [
    ("1→1 QoS 0", 1, 1, 0, 20000),
    ("1→1 QoS 1", 1, 1, 1, 10000),
    ("1→50 QoS 0", 1, 50, 0, 1000),
    ("1→50 QoS 1", 1, 50, 1, 600),
    ("50→1 QoS 0", 50, 1, 0, 400),
    ("50→1 QoS 1", 50, 1, 1, 200),
]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply message counts (default 1.0)")
    parser.add_argument("--latency-samples", type=int, default=1000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="repeat each scenario; keep the best (default 3)"
    )
    parser.add_argument("--serve", choices=("allow-all", "local"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return 0
    with tempfile.TemporaryDirectory() as workdir:
        brokers: list[BrokerProcess] = []
        mosquitto = start_mosquitto(Path(workdir))
        if mosquitto is None:
            print(
                "mosquitto not found (apt-get install -y mosquitto); comparing localcore only",
                file=sys.stderr,
            )
        else:
            brokers.append(mosquitto)
        brokers += [start_localcore("allow-all"), start_localcore("local")]
        results: dict[str, dict[str, Result]] = {broker.name: {} for broker in brokers}
        latencies: dict[str, tuple[float, float]] = {}
        try:
            # Interleave brokers inside each scenario and keep the best of N rounds: this machine is shared,
            # so background load hits every broker alike instead of whichever happened to run then.
            for round_number in range(args.rounds):
                for name, publishers, subscribers, qos, count in SCENARIOS:
                    per_publisher = max(1, int(count * args.scale))
                    for broker in brokers:
                        cpu_before = broker.cpu_seconds()
                        result = run_scenario(broker.port, publishers, subscribers, qos, per_publisher)
                        result.broker_cpu = broker.cpu_seconds() - cpu_before
                        best = results[broker.name].get(name)
                        if best is None or result.rate > best.rate:
                            results[broker.name][name] = result
                        print(f"round {round_number + 1} {broker.name:22} {name:12} {result.rate:10.0f} msg/s "
                              f"({result.delivered}/{result.expected}) {result.cpu_us_per_message:.1f} µs CPU/msg",
                              file=sys.stderr, flush=True)  # fmt: skip
            for broker in brokers:
                latencies[broker.name] = run_latency(broker.port, args.latency_samples)
        finally:
            for broker in brokers:
                broker.stop()
    print_table(results, latencies)
    return 0


def print_table(results: dict[str, dict[str, Result]], latencies: dict[str, tuple[float, float]]) -> None:
    reference = results.get("mosquitto")
    allow, local = results["localcore (allow-all)"], results["localcore (local)"]
    print("Throughput: messages delivered per second (paho harness), and broker CPU per delivered message.")
    print()
    columns = ["scenario"]
    if reference:
        columns += ["mosquitto msg/s", "localcore msg/s", "ratio"]
    else:
        columns += ["localcore msg/s"]
    columns += ["localcore + policy msg/s", "policy cost (msg/s)"]
    if reference:
        columns += ["mosquitto µs CPU/msg"]
    columns += ["localcore µs CPU/msg", "localcore + policy µs CPU/msg", "policy cost (CPU)"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for name, *_ in SCENARIOS:
        cells = [name]
        if reference:
            cells += [f"{reference[name].rate:,.0f}", f"{allow[name].rate:,.0f}"]
            cells += [f"{allow[name].rate / reference[name].rate:.0%}"]
        else:
            cells += [f"{allow[name].rate:,.0f}"]
        cells += [f"{local[name].rate:,.0f}", f"{1 - local[name].rate / allow[name].rate:+.1%}"]
        if reference:
            cells += [f"{reference[name].cpu_us_per_message:.1f}"]
        cells += [f"{allow[name].cpu_us_per_message:.1f}", f"{local[name].cpu_us_per_message:.1f}"]
        cells += [f"{local[name].cpu_us_per_message / allow[name].cpu_us_per_message - 1:+.1%}"]
        print("| " + " | ".join(cells) + " |")
    print()
    print("| latency (QoS 1 ping-pong) | p50 ms | p99 ms |")
    print("|---|---|---|")
    for broker, (p50, p99) in latencies.items():
        print(f"| {broker} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    raise SystemExit(main())
