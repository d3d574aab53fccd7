"""The end-to-end ladder: 1 → 200 concurrent chats with 10 dashboards, and the first token on an idle stack.

    python -m bench.ladder [--quick] [--chats 1,10,50,75,100,200] [--dashboards 10] [--seconds 15]
                           [--lambda-concurrency N] [--plot bench/results/ladder.png] [--json FILE]
                           [--function-env NAME=VALUE ...]

localcore runs in a child process (`bench.stack_process`, as `iotstream up` runs it) with the scripted model
at 100 tokens/s, 150 tokens per answer, no time to first token of its own (so every millisecond before the
first text is the stack's), AWS IoT's per-connection limits on, the per-identity limits high enough never
to refuse (their DynamoDB calls still run). Chats are local-mode users asking back to back (`bench.broadcast`).

First token (warm, idle stack): one chat asks `FIRST_TOKEN_PROMPTS` prompts one after another; the added time
is the client-observed first text minus the prompt's publish (the model adds nothing). The reference, in the
same run: one iot-data Publish from this process to the chat's topic until the chat receives it.

Per rung: answers, failures, answers/s and their ratio to the 1-chat rung's rate per chat (the knee is the
last rung at `KNEE_EFFICIENCY` or more), first event p50/p99, the longest wait for a next event (what a
client's idle timeout measures), token delivery latency (a token's arrival minus the time the model's
schedule produced it: `start.ts` + `ttft_ms` + index / rate, epoch ms on one machine), messages per answer,
dashboards at 100% of the feed, CPU per answer in localcore's process and in its Lambda workers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3

from bench.broadcast import (
    SCRIPT,
    TOKENS,
    TOKENS_PER_S,
    dashboard_session,
    percentile_ms,
    run_step,
)
from bench.broadcast_clients import Answer, Chat, FeedDashboard
from bench.mqtt_pump import MqttPump
from bench.stack_process import StackProcess
from clients.config import ClientConfig
from iotstream_lambdas.streaming.wire import Start, encode_event, response_topic

ENVIRONMENT = {
    "LLM_PROVIDER": "scripted",
    "SCRIPTED_TEXT": SCRIPT,
    "SCRIPTED_TOKENS_PER_S": str(TOKENS_PER_S),
    "PROMPTS_PER_MINUTE": "100000",
    "PROMPTS_PER_DAY": "1000000",
}
"""Limits that never refuse a benchmark chat asking back to back, but are still checked for every prompt."""
FIRST_TOKEN_PROMPTS = 20
IDLE_TIMEOUT_S = 30.0
"""`StreamAssembler`'s default idle timeout (lambdas/iotstream_lambdas/streaming/assembler.py)."""
KNEE_EFFICIENCY = 0.9
WARM_UP_S = 3.0
"""Every chat asks for this long before the rungs, so that cold starts are not counted in any rung."""
_TOKEN_INDEX = re.compile(r"token(\d+)|(end\.)")


@dataclass
class FirstToken:
    prompts: int
    added_p50_ms: float
    added_p99_ms: float
    to_start_p50_ms: float
    """Prompt published -> the stream began (`start.ts`): broker, rule, Lambda invoke, the gate's one write."""
    reference_p50_ms: float
    """One iot-data Publish from the benchmark to the chat, until received."""
    load: float


@dataclass
class Rung:
    chats: int
    dashboards: int
    seconds: float
    answers: int
    failed: int
    answers_per_s: float
    ttfe_p50_ms: float
    ttfe_p99_ms: float
    longest_gap_s: float
    past_idle_timeout: int
    token_p50_ms: float
    token_p99_ms: float
    messages_per_answer: float
    dashboards_complete: int
    worst_feed_pct: float
    cpu_main_ms: float
    cpu_workers_ms: float
    workers: int
    load: float
    efficiency: float = 0.0
    """answers/s over (chats x the 1-chat rung's answers/s per chat)."""

    @property
    def cpu_ms(self) -> float:
        return self.cpu_main_ms + self.cpu_workers_ms


def token_latencies(answer: Answer) -> list[float]:
    """Seconds from the model's schedule producing each token to its arrival at the chat."""
    if answer.start_ts_ms is None or answer.ttft_ms is None:
        return []
    first = answer.start_ts_ms / 1000 + answer.ttft_ms / 1000
    out = []
    for wall, text in answer.arrivals:
        for match in _TOKEN_INDEX.finditer(text):
            index = int(match.group(1)) if match.group(1) else TOKENS - 1
            out.append(wall - (first + index / TOKENS_PER_S))
    return out


def first_token(stack: StackProcess, chat: Chat, iot: Any, prompts: int) -> FirstToken:
    """Prompts one after another on a warm, idle stack (each after the last invocation finished); and the
    iot-data publish reference."""
    added: list[float] = []
    to_start: list[float] = []
    reference: list[float] = []
    for _ in range(prompts):
        stack.published()  # waits until no Lambda invocation runs: an idle stack
        rid = chat.ask(once=True)
        assert rid is not None
        if chat.wait(rid, lambda a: a.ended is not None, 60) and (answer := chat.answers[rid]).ok:
            assert answer.first_text is not None and answer.start_ts_ms is not None
            added.append(answer.first_text - answer.sent)
            to_start.append(answer.start_ts_ms / 1000 - answer.sent_wall)
        rid = str(uuid.uuid4())
        answer = chat.expect(rid)
        event = Start(rid=rid, seq=0, model="reference", ts=0, text="x")
        iot.publish(topic=response_topic(chat.identity, rid), qos=1, payload=encode_event(event))
        if chat.wait(rid, lambda a: a.first_text is not None, 10):
            assert answer.first_text is not None
            reference.append(answer.first_text - answer.sent)
    return FirstToken(
        prompts=len(added),
        added_p50_ms=percentile_ms(added, 0.5),
        added_p99_ms=percentile_ms(added, 0.99),
        to_start_p50_ms=percentile_ms(to_start, 0.5),
        reference_p50_ms=percentile_ms(reference, 0.5),
        load=round(os.getloadavg()[0], 1),
    )


def rung(
    stack: StackProcess, chats: Sequence[Chat], dashboards: Sequence[FeedDashboard], seconds: float
) -> Rung:
    before = stack.usage()
    result = run_step(stack, chats, dashboards, seconds)
    after = stack.usage()
    main_s, workers_s = after.cpu_since(before)
    answers = result.answers
    done = max(1, len(answers))
    first_events = [a.first - a.sent for a in answers if a.first is not None]
    latencies = [latency for a in answers if a.ok for latency in token_latencies(a)]
    gaps = [a.longest_gap if a.ended is not None else float("inf") for a in answers]
    return Rung(
        chats=len(chats),
        dashboards=len(dashboards),
        seconds=round(result.elapsed, 1),
        answers=sum(a.ok for a in answers),
        failed=sum(not a.ok for a in answers),
        answers_per_s=round(sum(a.ok for a in answers) / result.elapsed, 2),
        ttfe_p50_ms=percentile_ms(first_events, 0.5),
        ttfe_p99_ms=percentile_ms(first_events, 0.99),
        longest_gap_s=round(max(gaps, default=0.0), 2),
        past_idle_timeout=sum(gap > IDLE_TIMEOUT_S for gap in gaps),
        token_p50_ms=percentile_ms(latencies, 0.5),
        token_p99_ms=percentile_ms(latencies, 0.99),
        messages_per_answer=round(
            sum(a.messages for a in answers if a.ok) / max(1, sum(a.ok for a in answers)), 1
        ),
        dashboards_complete=result.dashboards_complete,
        worst_feed_pct=round(min(result.feed_pct, default=100.0), 2),
        cpu_main_ms=round(main_s * 1000 / done, 1),
        cpu_workers_ms=round(workers_s * 1000 / done, 1),
        workers=after.workers,
        load=round(os.getloadavg()[0], 1),
    )


def run(
    ladder: list[int],
    dashboards: int,
    seconds: float,
    lambda_concurrency: int | None,
    function_env: dict[str, str] | None = None,
) -> tuple[FirstToken, list[Rung]]:
    """`function_env` is added to the functions' environment (`ENVIRONMENT`): another publisher setting, say."""
    rungs: list[Rung] = []
    environment = {**ENVIRONMENT, **(function_env or {})}
    with StackProcess(environment, lambda_concurrency=lambda_concurrency) as stack:
        config = ClientConfig.from_localcore(stack.endpoints)
        endpoints = stack.endpoints
        credentials = {
            "region_name": config.region,
            "aws_access_key_id": endpoints["admin_access_key_id"],
            "aws_secret_access_key": endpoints["admin_secret_access_key"],
        }
        admin = boto3.client("cognito-idp", endpoint_url=endpoints["http"], **credentials)
        iot = boto3.client("iot-data", endpoint_url=endpoints["http"], **credentials)
        port = int(str(endpoints["mqtt"]).rsplit(":", 1)[1])
        pump = MqttPump()
        chats = [Chat(pump, port) for _ in range(max(ladder))]
        boards: list[FeedDashboard] = []
        try:
            run_step(stack, chats[:1], [], 0.1)  # warm up: the prompt function's cold start
            first = first_token(stack, chats[0], iot, FIRST_TOKEN_PROMPTS)
            print(f"  first token: {first}", file=sys.stderr, flush=True)
            for _ in range(dashboards):
                session = dashboard_session(config, admin, "board")
                boards.append(FeedDashboard(session, config.dashboard_shards).connect(pump))
            run_step(stack, chats, [], WARM_UP_S)  # start the workers the top rung needs: rungs are warm
            for count in ladder:
                row = rung(stack, chats[:count], boards, seconds)
                print(f"  {count} chats: {row}", file=sys.stderr, flush=True)
                rungs.append(row)
        finally:
            for chat in chats:
                chat.close()
            for board in boards:
                board.close()
            pump.close()
    reference = next((r for r in rungs if r.chats == 1), None)
    if reference is not None and reference.answers_per_s > 0:
        for row in rungs:
            row.efficiency = round(row.answers_per_s / (row.chats * reference.answers_per_s), 3)
    return first, rungs


def knee(rungs: Sequence[Rung]) -> int | None:
    """The most chats at which the answer rate is still `KNEE_EFFICIENCY` of the ideal (None: not even 1)."""
    good = [r.chats for r in rungs if r.efficiency >= KNEE_EFFICIENCY]
    return max(good, default=None)


def first_token_table(first: FirstToken) -> str:
    return "\n".join(
        [
            "| prompts | first text added p50 ms | p99 ms | of which until the stream began, p50 ms "
            "| reference: one iot-data publish p50 ms | load |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {first.prompts} | {first.added_p50_ms:.1f} | {first.added_p99_ms:.1f} | "
            f"{first.to_start_p50_ms:.1f} | {first.reference_p50_ms:.1f} | {first.load} |",
        ]
    )


def table(rungs: Sequence[Rung]) -> str:
    lines = [
        "| chats | answers | failed | answers/s | of ideal | first event p50 ms | p99 ms | longest wait s "
        "| past 30 s | token latency p50 ms | p99 ms | messages/answer | dashboards at 100% "
        "| CPU/answer ms (main + workers) | workers | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rungs:
        lines.append(
            f"| {r.chats} | {r.answers} | {r.failed} | {r.answers_per_s:.1f} | {100 * r.efficiency:.0f}% | "
            f"{r.ttfe_p50_ms:.0f} | {r.ttfe_p99_ms:.0f} | {r.longest_gap_s:.1f} | {r.past_idle_timeout} | "
            f"{r.token_p50_ms:.0f} | {r.token_p99_ms:.0f} | {r.messages_per_answer:.1f} | "
            f"{r.dashboards_complete}/{r.dashboards} | {r.cpu_ms:.0f} ({r.cpu_main_ms:.0f} + "
            f"{r.cpu_workers_ms:.0f}) | {r.workers} | {r.load} |"
        )
    return "\n".join(lines)


def plot(rungs: Sequence[Rung], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chats = [r.chats for r in rungs]
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4))
    left.plot(chats, [100 * r.efficiency for r in rungs], marker="o", label="answers/s, % of ideal")
    left.plot(
        chats,
        [r.worst_feed_pct for r in rungs],
        marker="s",
        linestyle="--",
        label="worst dashboard, % of feed",
    )
    left.axhline(100 * KNEE_EFFICIENCY, color="grey", linewidth=0.8, linestyle=":")
    left.set(xlabel="concurrent chats", ylabel="%", ylim=(0, 110))
    middle.plot(chats, [r.ttfe_p50_ms for r in rungs], marker="o", label="first event p50")
    middle.plot(chats, [r.ttfe_p99_ms for r in rungs], marker="s", label="first event p99")
    middle.plot(chats, [r.token_p99_ms for r in rungs], marker="^", label="token latency p99")
    middle.axhline(
        IDLE_TIMEOUT_S * 1000, color="red", linewidth=0.8, linestyle=":", label="client idle timeout"
    )
    middle.set(xlabel="concurrent chats", ylabel="ms", yscale="log")
    right.bar([str(c) for c in chats], [r.cpu_main_ms for r in rungs], label="localcore process")
    right.bar(
        [str(c) for c in chats],
        [r.cpu_workers_ms for r in rungs],
        bottom=[r.cpu_main_ms for r in rungs],
        label="Lambda workers",
    )
    right.set(xlabel="concurrent chats", ylabel="CPU ms per answer")
    for axis in (left, middle, right):
        axis.legend(fontsize=7)
    figure.suptitle(f"iotstream end to end through localcore: {TOKENS} tokens at {TOKENS_PER_S} tokens/s")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def _counts(text: str) -> list[int]:
    return [max(1, min(int(x), 500)) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 1 and 10 chats, 2 dashboards, 4 s")
    parser.add_argument("--chats", default="1,10,50,75,100,200", help="the ladder (at most 500 chats)")
    parser.add_argument("--dashboards", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0, help="asking time per rung (at most 120)")
    parser.add_argument("--lambda-concurrency", type=int, default=None, help="default: localcore's")
    parser.add_argument("--plot", type=Path, default=Path(__file__).parent / "results" / "ladder.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument(
        "--function-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one more variable for the functions (e.g. PUBLISH_MAX_BATCH_TOKENS=10); repeatable",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.chats, args.dashboards, args.seconds = "1,10", 2, 4.0
    if any("=" not in item for item in args.function_env):
        parser.error("--function-env takes NAME=VALUE")
    function_env = dict(item.split("=", 1) for item in args.function_env)
    first, rungs = run(
        _counts(args.chats),
        args.dashboards,
        max(1.0, min(args.seconds, 120.0)),
        args.lambda_concurrency,
        function_env,
    )
    print(first_token_table(first))
    print()
    print(table(rungs))
    print(f"\nknee (answers/s at {100 * KNEE_EFFICIENCY:.0f}% of ideal or more): {knee(rungs)} chats")
    plot(rungs, args.plot)
    print(f"plot: {args.plot}")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"first_token": asdict(first), "rungs": [asdict(r) for r in rungs]}, indent=2)
        )


if __name__ == "__main__":
    main()
