"""The words around the numbers on docs/benchmarks.md (`bench.report`): no number here is a measurement; the
measured ones come from what the benchmarks printed, or from their JSON output where a line says so."""

from __future__ import annotations

from typing import Any

from bench.broadcast import TOKENS, TOKENS_PER_S
from bench.stream import PRICE_PER_MILLION, PRICE_SOURCE

DASHBOARDS_FOR_COST = 10
FEED_UPDATES_PER_ANSWER = 3
"""`started`, one `streaming` per `DASHBOARD_INTERVAL_MS` (1 s) of a 1.5 s answer, the final update
(docs/protocol.md, "Limits: how many shards")."""
STATE_WRITE_UNITS = 13
"""DynamoDB write request units per answer (items under 1 KB): the gate's transaction of four items (claim, stream
slot, minute and day counters: 2 units each in a transaction), one heartbeat, then the outcome and the slot's
release in one transaction (2 x 2)."""

HEADER = """# Benchmarks

Written by `{command}` (`make bench`), first benchmark finished {started}, {minutes} minutes of benchmarks, on this project's development
machine: {cores} cores, {memory_gb} GB of memory, Python {python}, shared with other work (the load average is
noted with every benchmark; a noisy one is rerun, not reported). Every table is the benchmark's own output,
copied as printed. Compare rows of one run, not runs: absolute times on a 2-core machine are pessimistic. What
each benchmark does is in its module's docstring (`bench/`).
"""

SECTION_TEXT = {
    "ladder": f"""
The whole stack as `iotstream up` runs it (localcore in its own process, AWS IoT's per-connection limits on,
the default Lambda concurrency), the scripted model at {TOKENS_PER_S} tokens/s with {TOKENS} tokens per answer
and no time to first token of its own, 10 dashboards on the sharded feed. **First token**: on a warm, idle stack,
the client-observed first text minus the prompt's publish (the model adds nothing, so it is all the stack's
doing); the reference is one iot-data publish from the benchmark to the chat, measured alongside. **The ladder**:
chats asking back to back for a while at each rung. "of ideal" is the rung's answers/s over the 1-chat rung's
answers/s per chat times the chats; the knee is the last rung at 90% or more. "longest wait" is the longest a
chat waited for a next event (a client gives up after 30 s idle); token latency is a token's arrival minus when
the model's schedule produced it; CPU per answer is localcore's process plus its Lambda workers, from /proc.
""",
    "profile": """
py-spy samples localcore's process and its Lambda workers while chats ask back to back, after a warm-up as long
as the ladder's (cold starts are left out); each sample is charged to the package of its innermost frame outside
the standard library (only threads holding the GIL are sampled, which overstates aiohttp's C parser: read its
row as the event loop's share).
The worker's share is the production code path on AWS: boto3 calls to iot-data (the answer's messages) and
DynamoDB (the gate, the lease's heartbeat, the outcome). localcore's share is the emulation: moto (DynamoDB),
aiohttp and SigV4 (the HTTP endpoints), the broker.
""",
    "soak": """
Chats asking back to back for minutes; localcore's memory sampled all along. The state table's request records
expire after `REQUEST_TTL_S` (an hour by default); the soak lowers it so that the table reaches its steady size
within the run, and localcore's TTL sweep (every 10 s) deletes what expired. Flat means the second half of the
run adds less than 10 MB while thousands of answers go through.
""",
    "memory": """
What an idle MQTT connection costs localcore's process, what one Lambda execution environment (a warm prompt
worker) costs, and what a live stream adds to both. The workers are why the default Lambda concurrency is
bounded by memory (docs/lambda-runtime.md).
""",
    "broadcast": """
Dashboards on the sharded feed (one connection per shard) against the old single connection subscribed to
`chat/+/response/+`, with AWS IoT's 100 publishes/s per connection enforced (docs/protocol.md, "Dashboard
feed").
""",
    "floor": """
The least CPU the ladder's answer costs with the production code path: the prompt function's streaming code
with real boto3 clients against localcore, one answer at a time, without the Lambda runtime, the rule, the
broker's deliveries or any contention (`bench/floor.py`). The goal of 40 ms per answer is for the whole stack
under load; read the ladder's CPU per answer against this floor.
""",
    "flood": """
A victim asks one question at a time while one user floods prompts at AWS IoT's 100 publishes/s on several
connections and another holds thousands of idle sockets on the HTTP gateway and the MQTT port; then the
attackers stop and the victim asks again. Its time to first token in each phase against the idle one, and
localcore's memory before, during and after (`bench/flood.py`, its actors in `bench/flood_clients.py`). The goal
(issue 10): the victim within 2x of idle during the flood, memory back to its baseline afterwards. "Live Python
objects" is CPython's count of allocated blocks in localcore's process after a full collection: what is still
referenced, unlike the resident size, which keeps freed heap pages (docs/security.md, "Memory after an attack").
""",
    "rule_actions": """
The whole stack in the benchmark's process; for each action a rule `SELECT * FROM '<topic>'` writes every
message, as a role allowed everything. A row's time is from handing a message to the broker (as iot-data does)
until the rules engine is done with it, the write made: broker, SQL, the role (read from IAM once, then cached),
boto3 signing, localcore's SigV4 and IAM check, moto. The reference is the same write made directly with boto3
as the local admin, in the same process. moto's SQS send grows slower as a queue fills, so the two SQS rows write
to separate queues.
""",
    "devices": """
One localcore in the benchmark's process with the `mqtts` listener on, no rules and AWS's quotas off (so the rate
is localcore's, not AWS's 100 publishes/s per connection). Provisioning goes through boto3 (CreateKeysAndCertificate
is an RSA 2048 key generation; a CSR with the device's own key costs a signature only); connects and QoS 1
publishes through paho, one client at a time; the reference is a local-mode user on the plain MQTT port, in the
same process.
""",
    "events": """
What the structured event lines (`iotstream logs`, `up -v`, docs/localcore.md "Seeing what happens") cost the
broker: messages routed through `Broker.route` in one process without a listener (the reference), with the
listener that records a PUBLISH line per message, and with a live follower reading the lines (what `logs -f`
adds). A line keeps its message and is formatted only when read; a follower's backlog is capped at 10,000 lines.
""",
    "broker": """
localcore's broker and mosquitto in their own processes, driven by the same paho harness: messages delivered per
second and broker CPU per message, 1→1, 1→50 and 50→1 at QoS 0 and 1; "localcore + policy" evaluates the IoT
policies on every publish and delivery (what AWS IoT does).
""",
    "policy": """
IoT policy decisions per second on one core (the evaluator in `iot_policies/`), against a naive fnmatch
evaluator; the broker caches decisions per connection.
""",
    "rules": """
AWS IoT SQL evaluations per second (the prompt rule), and the latency the broker and the rules engine add before
a Lambda starts.
""",
}


def _rungs(data: dict[str, Any]) -> list[dict[str, Any]]:
    rungs: list[dict[str, Any]] = data.get("rungs", [])
    return rungs


def cost_table(ladder: dict[str, Any]) -> list[str]:
    """AWS IoT messaging per 1,000 answers, coalesced (measured messages per answer) vs one message per token."""
    single = next((r for r in _rungs(ladder) if r["chats"] == 1), None)
    if single is None:
        return []
    coalesced = float(single["messages_per_answer"])
    per_token = TOKENS + 2  # `start`, one `delta` per token, `end`
    feed = FEED_UPDATES_PER_ANSWER * (1 + DASHBOARDS_FOR_COST)  # published once, delivered to each dashboard
    rows = [
        "AWS cost per 1,000 answers (computed from the 1-chat rung's messages per answer above): every message "
        "of an answer is metered twice, the prompt function's iot-data Publish and the delivery to the asker "
        f"(each under 5 KB: one unit); the feed's {FEED_UPDATES_PER_ANSWER} updates per answer once in and once "
        f"per dashboard ({DASHBOARDS_FOR_COST} here). {PRICE_SOURCE}. The state table adds about "
        f"{STATE_WRITE_UNITS} DynamoDB write request units per answer either way "
        "(https://aws.amazon.com/dynamodb/pricing/on-demand/).",
        "",
        "| publishing | messages per answer | metered messages per 1,000 answers | messaging $ per 1,000 answers |",
        "|---|---:|---:|---:|",
    ]
    for name, messages in (("coalesced (default)", coalesced), ("one message per token", float(per_token))):
        metered = 1000 * (2 * messages + feed)
        rows.append(f"| {name} | {messages:.1f} | {metered:,.0f} | {metered * PRICE_PER_MILLION / 1e6:.4f} |")
    return rows


def goals(runs: dict[str, Any]) -> list[str]:
    """Each goal of issue 12 with what this run measured (from the benchmarks' JSON output)."""
    lines: list[str] = []
    ladder = runs.get("ladder")
    if ladder is not None and ladder.data:
        first = ladder.data["first_token"]
        rungs = _rungs(ladder.data)
        good = [r["chats"] for r in rungs if r.get("efficiency", 0) >= 0.9]
        knee = max(good, default=0)
        top = max(rungs, key=lambda r: r["chats"])
        cpu = [round(r["cpu_main_ms"] + r["cpu_workers_ms"]) for r in rungs if r["chats"] > 1]
        lines += [
            f"- First token added, warm and idle (goal ≤ 15 ms p50): **{first['added_p50_ms']} ms** p50, "
            f"{first['added_p99_ms']} ms p99.",
            f"- Every answer complete at every rung: **{sum(r['failed'] for r in rungs)} failed** of "
            f"{sum(r['answers'] + r['failed'] for r in rungs)}.",
            f"- Every dashboard at 100% of its feed at every rung: **"
            f"{sum(r['dashboards_complete'] == r['dashboards'] for r in rungs)} of {len(rungs)} rungs**.",
            f"- The knee (goal ≥ 75 concurrent chats): **{knee} chats**.",
            f"- No answer past the 30 s idle timeout at {top['chats']} chats: **{top['past_idle_timeout']}** past "
            f"it; longest wait {top['longest_gap_s']} s.",
            f"- CPU per answer (goal ≤ 40 ms): **{min(cpu, default=0)}–{max(cpu, default=0)} ms** across the rungs "
            "with more than one chat.",
        ]
    floor = runs.get("floor")
    if floor is not None and floor.data:
        rows = floor.data["rows"]
        answered = [row for row in rows if row["messages"]]
        lines.append(
            "- The floor beneath it, one answer at a time without the Lambda runtime (`bench.floor`): "
            + "; ".join(
                f"{row['name']} **{row['function_ms'] + row['localcore_ms']:.0f} ms** ({row['messages']:.1f} "
                "messages)"
                for row in answered
            )
            + f"; the model's pacing alone {rows[0]['function_ms']:.0f} ms."
        )
    soak = runs.get("soak")
    if soak is not None and soak.data:
        samples = soak.data["samples"]
        lines.append(
            f"- Flat memory over a {soak.data['minutes']:g}-minute soak: **{soak.data['growth_mb']:+.1f} MB** over "
            f"its second half, {samples[-1]['answers']} answers in all."
        )
    return lines
