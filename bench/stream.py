"""Per-token vs coalesced publishing THROUGH localcore: messages per answer, delivery latency and AWS IoT cost.

    python -m bench.stream [--tokens 200] [--rates 50,100,500] [--repeats 1] [--plot bench/results/stream.png]

For each model speed the same scripted answer is streamed twice by `CoalescingPublisher`: once per token
(the reference: one message per token, plus `start` and `end`) and once with the DEFAULT coalescing config.
Every message goes the production way: boto3 `iot-data` Publish (SigV4, localcore admin credentials) ->
localcore's iot-data endpoint -> the MQTT broker (AWS quotas on) -> a paho subscriber on
`chat/{id}/response/+`. Delivery latency of a token = time the subscriber received the message carrying
it minus the time the model produced it (one monotonic clock, one process). "lost" counts tokens whose
message never arrived (AWS IoT drops outbound publishes above 100/s per connection).

Cost: AWS meters messaging in 5 KB units. Each message is counted twice: the inbound HTTPS Publish from the
Lambda (metered on the body) and the outbound delivery to each subscriber (metered on payload + topic).
PRICE_PER_MILLION is AWS IoT Core's messaging list price for the first billion messages a month.
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from clients.local_app import local_config
from iotstream_lambdas.streaming.llm.base import GenerationParams, TextChunk
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider
from iotstream_lambdas.streaming.publisher import CoalescingPublisher, PublisherConfig
from iotstream_lambdas.streaming.wire import Usage, decode_event, event_text, response_filter
from localcore.testing import RunningLocalcore

PRICE_PER_MILLION = 1.00
PRICE_SOURCE = (
    "AWS IoT Core pricing, messaging: $1.00 per million messages (first 1 billion/month; "
    "https://aws.amazon.com/iot-core/pricing/), metered in 5 KB increments "
    "(https://aws.amazon.com/iot-core/pricing/additional-details/)"
)
METER_BYTES = 5 * 1024
SUBSCRIBERS = 1


@dataclass
class Sent:
    """What the Lambda side published: per message its seq, text and size."""

    seq: int
    text: str
    topic: str
    payload_bytes: int


class RecordingClient:
    """Wraps the boto3 iot-data client and records every published event (the sender's view)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sent: list[Sent] = []

    def publish(self, *, topic: str, qos: int, payload: bytes) -> Any:
        event = decode_event(payload)
        self.sent.append(Sent(event.seq, event_text(event), topic, len(payload)))
        return self.client.publish(topic=topic, qos=qos, payload=payload)


@dataclass
class Subscriber:
    """A paho MQTT client receiving one identity's responses; records arrival time per (rid, seq)."""

    identity: str
    arrivals: dict[tuple[str, int], float] = field(default_factory=dict)
    terminal: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        now = time.monotonic()
        event = decode_event(bytes(message.payload))
        with self.lock:
            self.arrivals.setdefault((event.rid, event.seq), now)
            done = self.terminal.setdefault(event.rid, threading.Event())
        if type(event).__name__ in ("End", "Error"):
            done.set()

    def waiter(self, rid: str) -> threading.Event:
        with self.lock:
            return self.terminal.setdefault(rid, threading.Event())


@dataclass
class Row:
    rate: float
    mode: str
    messages: int
    received: int
    lost_tokens: int
    p50_ms: float
    p99_ms: float
    meter_units: int

    def cost_per_1000(self) -> float:
        return self.meter_units * 1000 * PRICE_PER_MILLION / 1_000_000


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else float("nan")


def stream_once(
    iot: Any, subscriber: Subscriber, config: PublisherConfig, tokens: int, rate: float
) -> tuple[list[Sent], list[tuple[int, float]], str]:
    """Stream `tokens` tokens at `rate`; return what was sent, (end offset, produced at) per token, the rid."""
    recording = RecordingClient(iot)
    rid = str(uuid.uuid4())
    done = subscriber.waiter(rid)
    publisher = CoalescingPublisher(recording, subscriber.identity, rid, config)
    produced: list[tuple[int, float]] = []
    offset = 0
    publisher.start("scripted")
    text = " ".join(f"tok{i}" for i in range(tokens))
    for chunk in ScriptedProvider(text=text, tokens_per_s=rate).stream(
        [], GenerationParams(max_tokens=tokens)
    ):
        if isinstance(chunk, TextChunk):
            offset += len(chunk.text)
            produced.append((offset, time.monotonic()))
            publisher.add_text(chunk.text)
    publisher.end("end_turn", Usage(0, tokens))
    publisher.close(timeout=120)
    done.wait(5)  # the terminal may have been dropped by the broker's rate limit; then give up
    return recording.sent, produced, rid


def measure(
    sent: list[Sent], produced: list[tuple[int, float]], rid: str, subscriber: Subscriber
) -> tuple[list[float], int, int, int]:
    """Per-token delivery latency (s), tokens lost, messages received, metered 5 KB units."""
    ranges: list[tuple[int, int]] = []  # (end offset of the message's text, seq), in seq order
    offset = 0
    for message in sorted(sent, key=lambda m: m.seq):
        if message.text:
            offset += len(message.text)
            ranges.append((offset, message.seq))
    latencies: list[float] = []
    lost = 0
    index = 0
    with subscriber.lock:
        arrivals = {seq: t for (r, seq), t in subscriber.arrivals.items() if r == rid}
    for end, produced_at in produced:
        while ranges[index][0] < end:
            index += 1
        arrived = arrivals.get(ranges[index][1])
        if arrived is None:
            lost += 1
        else:
            latencies.append(arrived - produced_at)
    units = 0
    for message in sent:
        inbound = max(1, math.ceil(message.payload_bytes / METER_BYTES))
        outbound = max(1, math.ceil((message.payload_bytes + len(message.topic.encode())) / METER_BYTES))
        units += inbound + outbound * SUBSCRIBERS
    return latencies, lost, len(arrivals), units


def connect_subscriber(port: int, identity: str, subscriber: Subscriber) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=identity, protocol=paho.MQTTv5)
    client.username_pw_set(identity)  # local mode: the user policy for this identity applies
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_message = subscriber.on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe(response_filter(identity), qos=1)
    if not subscribed.wait(10):
        raise RuntimeError("no SUBACK")
    return client


def run(tokens: int, rates: list[float], repeats: int) -> list[Row]:
    modes = {
        "per-token": PublisherConfig(coalesce=False, max_messages_per_second=0),
        "coalesced": PublisherConfig(),  # the DEFAULT config
    }
    rows: list[Row] = []
    with RunningLocalcore(local_config()) as core:
        iot = core.client("iot-data")  # admin credentials; SigV4-verified by localcore
        identity = f"{core.core.config.region}:{uuid.uuid4()}"
        subscriber = Subscriber(identity)
        client = connect_subscriber(core.mqtt_port, identity, subscriber)
        stream_once(iot, subscriber, PublisherConfig(), 5, 0)  # warm up connections
        try:
            for rate in rates:
                for mode, config in modes.items():
                    latencies: list[float] = []
                    lost = received = units = messages = 0
                    for _ in range(repeats):
                        sent, produced, rid = stream_once(iot, subscriber, config, tokens, rate)
                        lat, lost_now, received_now, units_now = measure(sent, produced, rid, subscriber)
                        latencies += lat
                        lost += lost_now
                        received += received_now
                        units += units_now
                        messages += len(sent)
                    rows.append(
                        Row(
                            rate,
                            mode,
                            round(messages / repeats),
                            round(received / repeats),
                            round(lost / repeats),
                            percentile(latencies, 0.5),
                            percentile(latencies, 0.99),
                            round(units / repeats),
                        )
                    )
        finally:
            client.loop_stop()
            client.disconnect()
    return rows


def table(rows: list[Row], tokens: int) -> str:
    lines = [
        f"{tokens} tokens per answer, 1 subscriber; latency = model produced token -> paho subscriber received it",
        "",
        "| tok/s | mode | msgs/answer | fewer | received | lost tokens | p50 ms | p99 ms | added p99 ms "
        "| 5 KB units | $ per 1,000 answers |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        reference = next(r for r in rows if r.rate == row.rate and r.mode == "per-token")
        added = row.p99_ms - reference.p99_ms if row.mode != "per-token" else 0.0
        lines.append(
            f"| {row.rate:g} | {row.mode} | {row.messages} | {reference.messages / row.messages:.2f}x | "
            f"{row.received} | {row.lost_tokens} | {row.p50_ms:.1f} | {row.p99_ms:.1f} | {added:+.1f} | "
            f"{row.meter_units} | {row.cost_per_1000():.4f} |"
        )
    lines += ["", f"Price: {PRICE_SOURCE}."]
    return "\n".join(lines)


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = sorted({r.rate for r in rows})
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, marker in (("per-token", "o"), ("coalesced", "s")):
        chosen = [next(r for r in rows if r.rate == rate and r.mode == mode) for rate in rates]
        left.plot(rates, [r.messages for r in chosen], marker=marker, label=mode)
        right.plot(rates, [r.p99_ms for r in chosen], marker=marker, label=f"{mode} p99")
        right.plot(rates, [r.p50_ms for r in chosen], marker=marker, linestyle=":", label=f"{mode} p50")
    left.set(xscale="log", yscale="log", xlabel="model tokens/s", ylabel="MQTT messages per answer")
    right.set(xscale="log", yscale="log", xlabel="model tokens/s", ylabel="delivery latency (ms)")
    right.axhline(100, color="grey", linewidth=0.8, linestyle="--")
    for axis in (left, right):
        axis.set_xticks(rates, [f"{rate:g}" for rate in rates])
        axis.minorticks_off()
    left.legend()
    right.legend(fontsize=7)
    figure.suptitle("iotstream: per-token vs coalesced publishing through localcore")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200, help="tokens per answer (at most 2000)")
    parser.add_argument("--rates", default="50,100,500", help="model tokens per second")
    parser.add_argument("--repeats", type=int, default=1, help="answers per row (at most 5)")
    parser.add_argument("--plot", type=Path, default=Path(__file__).parent / "results" / "stream.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    tokens = max(10, min(args.tokens, 2000))
    rows = run(tokens, [float(x) for x in args.rates.split(",")], max(1, min(args.repeats, 5)))
    print(table(rows, tokens))
    plot(rows, args.plot)
    print(f"\nplot: {args.plot}")
    if args.json is not None:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2))


if __name__ == "__main__":
    main()
