"""Rules engine: SQL evaluations per second (one core), and the latency a rule adds before a Lambda starts.

Run: python -m bench.rules [--messages 200] [--burst 100] [--skip-latency]

Part 1 evaluates the app's typical rule in a loop against a hand-written json.loads/dumps reference.
Part 2 runs the whole local stack (`RunningLocalcore`) with one rule `SELECT * FROM 'chat/+/prompt'` whose lambda
action invokes an echo handler that records `time.time()` when it starts. Latency = handler start minus the time
the broker accepted the MQTT PUBLISH (`Message.received_at`). The reference, in the same process, is Lambda's own
asynchronous invoke called directly (`invoke_async` -> handler start): the difference is what the broker and the
rules engine add. Sequential rows publish one message and wait for the invocation to end before the next; the burst
row publishes `--burst` messages back to back (worker pool limits then dominate). No assertions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from localcore.rules.sql import SqlContext, compile_sql, render_template

RULE = "SELECT *, topic(2) AS identity_id FROM 'chat/+/prompt' WHERE NOT isUndefined(text)"
TOPIC = "chat/us-east-1:1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718/prompt"
PROMPT = {
    "v": 1,
    "rid": "0b6f3c52-8f7e-4c1a-9d2b-5e4f3a2b1c0d",
    "text": "Explain in two sentences why MQTT suits streaming answers to many browsers at once, and what"
    " AWS IoT Core adds on top of a plain broker (policies, rules, quotas).",
    "conversation": "c-7d1e2f",
    "params": {"max_tokens": 256, "temperature": 0.7},
}
PAYLOAD = json.dumps(PROMPT).encode()
TARGET_PER_SECOND = 50_000


def _rate(fn: Callable[[], object], seconds: float = 1.0) -> float:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(500):
            fn()
        count += 500
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def sql_table() -> None:
    query = compile_sql(RULE, "2016-03-23")
    ctx = SqlContext(TOPIC, PAYLOAD, client_id="c1", timestamp_ms=1)
    identity = TOPIC.split("/")[1]

    def reference() -> bytes:
        doc = json.loads(PAYLOAD)
        if "text" not in doc:
            return b""
        out = dict(doc)
        out["identity_id"] = identity
        return json.dumps(out, separators=(",", ":")).encode()

    rows = [
        ("reference: json.loads + dict + json.dumps", _rate(reference)),
        ("compile_sql (parse + compile)", _rate(lambda: compile_sql(RULE, "2016-03-23"), 0.5)),
        ("evaluate (WHERE + SELECT)", _rate(lambda: query.evaluate(ctx))),
        ("evaluate + payload bytes", _rate(lambda: query.evaluate(ctx).payload)),
        (
            "render_template chat/${topic(2)}/response/${rid}",
            _rate(lambda: render_template("chat/${topic(2)}/response/${rid}", ctx, "2016-03-23")),
        ),
    ]
    base = rows[0][1]
    print(f"rule: {RULE}\npayload: {len(PAYLOAD)} bytes")
    print(f"target: more than {TARGET_PER_SECOND:,}/s for evaluate + payload\n")
    print(f"{'operation':<52}{'per second':>14}{'vs reference':>14}")
    for name, rate in rows:
        print(f"{name:<52}{rate:>14,.0f}{rate / base:>13.2f}x")
    full = rows[3][1]
    verdict = "meets" if full >= TARGET_PER_SECOND else "BELOW"
    print(f"\nevaluate + payload: {verdict} the {TARGET_PER_SECOND:,}/s target")


HANDLER = """
import os, time

def handler(event, context):
    started = time.time()
    with open(os.environ["STAMP_FILE"], "a") as stamps:
        stamps.write(f"{event['n']} {started}\\n")
    return {"n": event["n"]}
"""
CONNECTIONS = 10
BENCH_RULE = {
    "ruleName": "bench_stamp",
    "sql": "SELECT * FROM 'chat/+/prompt'",
    "awsIotSqlVersion": "2016-03-23",
    "actions": [{"lambda": {"function": "stamp"}}],
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _stamps(path: Path) -> dict[int, float]:
    lines = path.read_text().split() if path.exists() else []
    return {int(n): float(t) for n, t in zip(lines[::2], lines[1::2], strict=True)}


def latency_table(messages: int, burst: int) -> None:
    from localcore.broker.message import Message
    from localcore.broker.testing import MqttTestClient
    from localcore.project import builtin_project
    from localcore.pytest_plugin import project_config
    from localcore.testing import RunningLocalcore

    with tempfile.TemporaryDirectory(prefix="bench-rules-") as scratch:
        root = Path(scratch)
        (root / "bench_handlers").mkdir()
        (root / "bench_handlers" / "__init__.py").write_text("")
        (root / "bench_handlers" / "stamp.py").write_text(HANDLER)
        (root / "functions.json").write_text(
            json.dumps({"stamp": {"handler": "bench_handlers.stamp.handler"}})
        )
        (root / "rules").mkdir()
        (root / "rules" / "bench_stamp.json").write_text(json.dumps(BENCH_RULE))
        stamp_file = root / "stamps.txt"
        # iotstream's own policies (local-mode users may publish their prompts), the bench's rule and function
        project = dataclasses.replace(
            builtin_project(), rules_dir=root / "rules", functions=root / "functions.json", code_root=None
        )
        config = project_config(project, {"STAMP_FILE": str(stamp_file)})
        accepted: dict[int, float] = {}

        def record(message: Message) -> None:
            if message.topic.endswith("/prompt"):
                accepted[json.loads(message.payload)["n"]] = message.received_at

        with RunningLocalcore(config) as stack:
            runtime = stack.core.runtime
            assert runtime is not None
            stack.core.broker.add_listener(record)
            direct_start: dict[int, float] = {}

            def direct(n: int) -> None:
                direct_start[n] = time.time()
                stack.thread.run(runtime.invoke_async("stamp", {"n": n}))
                stack.wait_lambdas_idle()

            # AWS allows 100 publishes/s per connection (localcore drops the excess): spread over connections.
            users = [f"us-east-1:00000000-0000-4000-8000-{i:012d}" for i in range(CONNECTIONS)]
            clients = [MqttTestClient(stack.mqtt_port, client_id=u, username=u).connect() for u in users]

            def send(n: int) -> None:
                user = users[n % CONNECTIONS]
                clients[n % CONNECTIONS].publish(f"chat/{user}/prompt", json.dumps({"n": n}), qos=1)

            def via_rule(n: int) -> None:
                send(n)
                stack.wait_rules_idle()
                stack.wait_lambdas_idle()

            try:
                via_rule(0)  # cold start of the first worker
                for n in range(1, messages + 1):
                    direct(100_000 + n)
                for n in range(1, messages + 1):
                    via_rule(n)
                for n in range(1, burst + 1):
                    send(200_000 + n)
                stack.wait_rules_idle()
                stack.wait_lambdas_idle()
            finally:
                for client in clients:
                    client.disconnect()
            stamps = _stamps(stamp_file)

    def ms(ns: range, start: dict[int, float]) -> list[float]:
        return [(stamps[n] - start[n]) * 1000 for n in ns if n in stamps and n in start]

    rows = [
        ("reference: invoke_async -> handler start", ms(range(100_001, 100_001 + messages), direct_start)),
        ("MQTT PUBLISH accepted -> rule -> handler start", ms(range(1, messages + 1), accepted)),
        (f"same, burst of {burst} back to back", ms(range(200_001, 200_001 + burst), accepted)),
    ]
    cold = ms(range(0, 1), accepted)
    print(f"\nrule -> Lambda latency (local, warm workers; cold first invoke {cold[0]:.1f} ms)")
    print(f"{'path':<50}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}")
    for name, values in rows:
        print(
            f"{name:<50}{len(values):>6}{_percentile(values, 0.5):>10.2f}{_percentile(values, 0.99):>10.2f}"
        )
    added = _percentile(rows[1][1], 0.5) - _percentile(rows[0][1], 0.5)
    print(f"added by broker + rules engine (p50 difference): {added:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200, help="sequential messages per row")
    parser.add_argument("--burst", type=int, default=100, help="messages in the burst row")
    parser.add_argument("--skip-latency", action="store_true", help="only the SQL table")
    args = parser.parse_args()
    sql_table()
    if not args.skip_latency:
        latency_table(args.messages, args.burst)


if __name__ == "__main__":
    main()
