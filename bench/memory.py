"""Memory per idle MQTT connection and per live stream, in localcore and in its Lambda workers.

    python -m bench.memory [--quick] [--connections 500] [--streams 20] [--json FILE]

localcore runs in a child process (`bench.stack_process`) with the scripted model at `TOKENS_PER_S` tokens/s
(answers of about 15 s, so that the streams are live while memory is read). Steps, each read from /proc
(`bench.proc_usage`): the idle stack; `--connections` local-mode MQTT connections, each subscribed to its
answers; `--streams` of them asking at once (one Lambda worker each, cold); then, once they ended, the same
number asking again on the now warm workers. Reported: the localcore process's resident memory per idle
connection, a warm worker's proportional memory (PSS: pages shared between workers are split among them), and
what a live stream adds on top of its warm worker.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.broadcast import wait_answers
from bench.broadcast_clients import Chat
from bench.ladder import ENVIRONMENT
from bench.mqtt_pump import MqttPump
from bench.proc_usage import Usage
from bench.stack_process import StackProcess

TOKENS_PER_S = 10
LIVE_AFTER_S = 5.0
"""How long after the prompts the live streams are measured (answers last about 15 s)."""


@dataclass
class Memory:
    connections: int
    streams: int
    per_connection_kb: float
    worker_pss_mb: float
    per_live_stream_main_kb: float
    per_live_stream_worker_kb: float
    load: float


def _streams(stack: StackProcess, chats: list[Chat]) -> Usage:
    for chat in chats:
        chat.ask(once=True)
    time.sleep(LIVE_AFTER_S)  # the streams are under way: measure while they are live
    live = stack.usage()
    wait_answers(chats, time.monotonic() + 120)
    return live


def run(connections: int, streams: int) -> Memory:
    environment = {**ENVIRONMENT, "SCRIPTED_TOKENS_PER_S": str(TOKENS_PER_S)}
    with StackProcess(environment, lambda_concurrency=max(8, streams)) as stack:
        port = int(str(stack.endpoints["mqtt"]).rsplit(":", 1)[1])
        pump = MqttPump()
        idle = stack.usage()
        chats = [Chat(pump, port) for _ in range(connections)]
        connected = stack.usage()
        try:
            _streams(stack, chats[:streams])  # cold: starts one worker per stream
            stack.published()
            warm = stack.usage()
            live = _streams(stack, chats[:streams])
        finally:
            for chat in chats:
                chat.close()
            pump.close()
    workers = max(1, warm.workers)
    return Memory(
        connections=connections,
        streams=streams,
        per_connection_kb=round((connected.main_rss_kb - idle.main_rss_kb) / connections, 1),
        worker_pss_mb=round(warm.workers_pss_kb / workers / 1024, 1),
        per_live_stream_main_kb=round((live.main_rss_kb - warm.main_rss_kb) / streams, 1),
        per_live_stream_worker_kb=round((live.workers_pss_kb - warm.workers_pss_kb) / streams, 1),
        load=round(os.getloadavg()[0], 1),
    )


def table(memory: Memory) -> str:
    return "\n".join(
        [
            "| what | memory | measured over | load |",
            "|---|---:|---|---:|",
            f"| idle MQTT connection (localcore process, RSS) | {memory.per_connection_kb:.0f} KB | "
            f"{memory.connections} connections | {memory.load} |",
            f"| Lambda execution environment (a warm prompt worker, PSS) | {memory.worker_pss_mb:.1f} MB | "
            f"{memory.streams} workers | {memory.load} |",
            f"| live stream beyond its warm worker: localcore process (RSS) | "
            f"{memory.per_live_stream_main_kb:.0f} KB | {memory.streams} streams | {memory.load} |",
            f"| live stream beyond its warm worker: the worker (PSS) | "
            f"{memory.per_live_stream_worker_kb:.0f} KB | {memory.streams} streams | {memory.load} |",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 100 connections, 5 streams")
    parser.add_argument("--connections", type=int, default=500, help="at most 2000")
    parser.add_argument("--streams", type=int, default=20, help="at most 100")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.connections, args.streams = 100, 5
    streams = max(1, min(args.streams, 100))
    memory = run(max(streams, min(args.connections, 2000)), streams)
    print(table(memory))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(memory), indent=2))


if __name__ == "__main__":
    main()
