"""Rules-engine SQL throughput: evaluations per second for the app's typical rule (one core).

Run: python -m bench.rules
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

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


def main() -> None:
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


if __name__ == "__main__":
    main()
