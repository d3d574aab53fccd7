"""Coalescing publisher vs per-token publishing: messages per answer and added latency.

    python -m bench.stream [--tokens 150] [--rates 50,100,200,1000] [--latencies-ms 0,30]

(With the project installed `streaming` is importable; from a bare checkout prefix
`PYTHONPATH=lambdas`.) Each row streams the same scripted answer through a real boto3 `iot-data`
client to an in-process HTTP Publish endpoint on 127.0.0.1 that can add a fixed per-publish
latency (AWS's HTTPS Publish from Lambda typically takes tens of ms). The reference is per-token
publishing (one message per token, no rate cap) in the same process. "added p99" is the 99th
percentile of the time a token waited in the publisher until the publish carrying it returned.
No assertions: targets are >= 5x fewer messages and p99 added latency < 100 ms.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from streaming.llm.base import GenerationParams, TextChunk
from streaming.llm.scripted import ScriptedProvider
from streaming.publisher import CoalescingPublisher, PublisherConfig
from streaming.wire import Usage


class PublishEndpoint:
    """`POST /topics/{topic}` that answers 200 after `latency_s`; counts requests."""

    def __init__(self) -> None:
        self.latency_s = 0.0
        self.count = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stalls

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if endpoint.latency_s:
                    time.sleep(endpoint.latency_s)  # simulated network + service time
                endpoint.count += 1
                body = b'{"message":"OK"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass
class Row:
    rate: float
    latency_ms: float
    mode: str
    messages: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    seconds: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0


def run(client: Any, config: PublisherConfig, tokens: int, rate: float) -> tuple[int, list[float], float]:
    text = " ".join(f"tok{i}" for i in range(tokens))
    publisher = CoalescingPublisher(client, "bench-user", str(uuid.uuid4()), config)
    started = time.perf_counter()
    publisher.start("scripted")
    for chunk in ScriptedProvider(text=text, tokens_per_s=rate).stream(
        [], GenerationParams(max_tokens=tokens)
    ):
        if isinstance(chunk, TextChunk):
            publisher.add_text(chunk.text)
    publisher.end("end_turn", Usage(0, tokens))
    publisher.close(timeout=120)
    return publisher.metrics.messages + 1, publisher.metrics.added_latency_s, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--rates", default="50,100,200,1000", help="model tokens per second")
    parser.add_argument("--latencies-ms", default="0,30", help="simulated per-publish latency")
    parser.add_argument("--caps", default="20,10", help="coalesced messages-per-second caps to compare")
    args = parser.parse_args(argv)
    endpoint = PublishEndpoint()
    client = boto3.client(
        "iot-data",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    modes = {"per-token": PublisherConfig(coalesce=False, max_messages_per_second=0)}
    for cap in (float(x) for x in args.caps.split(",")):
        modes[f"cap {cap:g}/s"] = PublisherConfig(max_messages_per_second=cap)
    rows: list[Row] = []
    for latency_ms in (float(x) for x in args.latencies_ms.split(",")):
        endpoint.latency_s = latency_ms / 1000
        for rate in (float(x) for x in args.rates.split(",")):
            for mode, config in modes.items():
                messages, latencies, seconds = run(client, config, args.tokens, rate)
                rows.append(
                    Row(
                        rate,
                        latency_ms,
                        mode,
                        messages,
                        percentile(latencies, 0.5),
                        percentile(latencies, 0.99),
                        max(latencies) * 1000,
                        seconds,
                    )
                )
    print(f"{args.tokens} tokens per answer; reference = per-token publishing (no cap)\n")
    header = f"{'tok/s':>6} {'pub ms':>6} {'mode':>10} {'msgs':>5} {'fewer':>6} {'p50 ms':>7} {'p99 ms':>7}"
    print(header + f" {'max ms':>7} {'total s':>7}")
    for row in rows:
        reference = next(
            r for r in rows if (r.rate, r.latency_ms, r.mode) == (row.rate, row.latency_ms, "per-token")
        )
        ratio = reference.messages / row.messages
        print(
            f"{row.rate:>6g} {row.latency_ms:>6g} {row.mode:>10} {row.messages:>5} {ratio:>5.1f}x "
            f"{row.p50_ms:>7.1f} {row.p99_ms:>7.1f} {row.max_ms:>7.1f} {row.seconds:>7.2f}"
        )
    endpoint.server.shutdown()


if __name__ == "__main__":
    main()
