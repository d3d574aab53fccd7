"""Broadcast to dashboards under load: the sharded dashboard feed against the old one-connection design.

    python -m bench.broadcast [--quick] [--chats 1,10,50,200] [--dashboards 1,10,100] [--seconds 15]
                              [--lambda-concurrency N] [--plot bench/results/broadcast.png] [--json FILE]

localcore runs in a child process (`bench.stack_process`) with the scripted model (100 tokens/s, 150 tokens
per answer) and AWS IoT's per-connection limits ON (100 publishes/s, excess dropped). For every number of
dashboards (each a Cognito `dashboard` user with one SigV4 WebSocket connection per shard) and every rung
of the chat ladder (local-mode users asking back to back for `--seconds`, then waiting for their last
answers), it reports:

- answers completed (and failed or lost), answers/s, time to first event p50/p99 (prompt published ->
  the first response event at the asker);
- every dashboard's completeness: feed updates and final updates received vs published, the published set
  taken from a tap on localcore's broker (producer side, before any subscriber's limit);
- the old design's loss: one more dashboard connection on `chat/+/response/+`, received vs published;
- the peak number of live streams and the busiest shard's updates within one second.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3

from bench.broadcast_clients import Answer, Chat, FeedDashboard, FirehoseDashboard
from bench.mqtt_pump import MqttPump
from bench.stack_process import Published, StackProcess
from clients.config import ClientConfig
from clients.session import Session, sign_in, sign_up
from localcore.lambda_runtime.concurrency import default_account_limit

TOKENS, TOKENS_PER_S = 150, 100
SCRIPT = " ".join(f"token{i}" for i in range(TOKENS - 1)) + " end."
ENVIRONMENT = {
    "LLM_PROVIDER": "scripted",
    "SCRIPTED_TEXT": SCRIPT,
    "SCRIPTED_TOKENS_PER_S": str(TOKENS_PER_S),
}
PASSWORD = "Bench-passw0rd!"
ANSWER_TIMEOUT_S = 120.0
"""An answer not finished this long after its prompt is counted as lost (the chat asks again)."""
DRAIN_TIMEOUT_S = 180.0
SETTLE_TIMEOUT_S = 15.0


@dataclass
class Row:
    dashboards: int
    chats: int
    seconds: float
    answers: int
    failed: int
    ttfe_p50_ms: float
    ttfe_p99_ms: float
    feed_published: int
    finals_published: int
    worst_feed_pct: float
    worst_finals_pct: float
    dashboards_complete: int
    firehose_published: int
    firehose_received: int
    peak_live_streams: int
    busiest_shard_per_s: int

    @property
    def firehose_loss_pct(self) -> float:
        return (
            100 * (1 - self.firehose_received / self.firehose_published) if self.firehose_published else 0.0
        )


def percentile_ms(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1) if ordered else float("nan")


def dashboard_session(config: ClientConfig, admin: Any, name: str) -> Session:
    """A new user in the `dashboard` group, signed in (its identity gets the iotstream-dashboard policy)."""
    username = f"{name}-{uuid.uuid4().hex[:8]}"
    if not sign_up(config, username, PASSWORD, f"{username}@example.com").confirmed:
        admin.admin_confirm_sign_up(UserPoolId=config.user_pool_id, Username=username)
    admin.admin_add_user_to_group(UserPoolId=config.user_pool_id, Username=username, GroupName="dashboard")
    return sign_in(config, username, PASSWORD)


def wait_answers(chats: Sequence[Chat], deadline: float) -> None:
    """Until no chat has an answer in flight (stuck ones are given up), or the deadline."""
    while time.monotonic() < deadline and any(chat.in_flight for chat in chats):
        for chat in chats:
            chat.give_up(ANSWER_TIMEOUT_S)
        time.sleep(0.2)  # a benchmark's clock: poll the chats a few times a second


@dataclass
class StepResult:
    """What one rung of a ladder produced: the chats' answers, the producer side, the dashboards' share."""

    elapsed: float
    answers: list[Answer]
    published: Published
    feed_pct: list[float]
    """Per dashboard: % of the published feed updates it received."""
    finals_pct: list[float]
    """Per dashboard: % of the published final updates it received."""

    @property
    def dashboards_complete(self) -> int:
        return sum(f == 100 and g == 100 for f, g in zip(self.feed_pct, self.finals_pct, strict=True))


def run_step(
    stack: StackProcess, chats: Sequence[Chat], dashboards: Sequence[FeedDashboard], seconds: float
) -> StepResult:
    """Every chat asks back to back for `seconds`, then the last answers drain; the dashboards' share of the
    feed is counted once everything was published (and had `SETTLE_TIMEOUT_S` to arrive)."""
    stack.mark()
    for dashboard in dashboards:
        dashboard.reset()
    for chat in chats:
        chat.answers.clear()
        chat.asking.set()
        chat.ask()
    started = time.monotonic()
    wait_answers(chats, started + seconds)  # returns at the deadline: every chat keeps asking
    for chat in chats:
        chat.asking.clear()
    wait_answers(chats, time.monotonic() + DRAIN_TIMEOUT_S)
    elapsed = time.monotonic() - started
    published: Published = stack.published()
    for dashboard in dashboards:
        dashboard.wait_for(
            lambda d: published.feed <= d.received and published.finals <= d.finals, SETTLE_TIMEOUT_S
        )
    return StepResult(
        elapsed=elapsed,
        answers=[answer for chat in chats for answer in chat.answers.values()],
        published=published,
        feed_pct=[100 * len(published.feed & d.received) / max(1, len(published.feed)) for d in dashboards],
        finals_pct=[
            100 * len(published.finals & d.finals) / max(1, len(published.finals)) for d in dashboards
        ],
    )


def step(
    stack: StackProcess,
    chats: Sequence[Chat],
    dashboards: Sequence[FeedDashboard],
    firehose: FirehoseDashboard,
    seconds: float,
) -> Row:
    firehose.take()
    result = run_step(stack, chats, dashboards, seconds)
    answers, published = result.answers, result.published
    first_events = [a.first - a.sent for a in answers if a.first is not None]
    return Row(
        dashboards=len(dashboards),
        chats=len(chats),
        seconds=round(result.elapsed, 1),
        answers=sum(a.ok for a in answers),
        failed=sum(not a.ok for a in answers),
        ttfe_p50_ms=percentile_ms(first_events, 0.5),
        ttfe_p99_ms=percentile_ms(first_events, 0.99),
        feed_published=len(published.feed),
        finals_published=len(published.finals),
        worst_feed_pct=round(min(result.feed_pct, default=100.0), 2),
        worst_finals_pct=round(min(result.finals_pct, default=100.0), 2),
        dashboards_complete=result.dashboards_complete,
        firehose_published=published.responses,
        firehose_received=firehose.take(),
        peak_live_streams=published.peak_live_streams,
        busiest_shard_per_s=published.busiest_shard_per_second,
    )


def run(
    chat_ladder: list[int], dashboard_counts: list[int], seconds: float, lambda_concurrency: int
) -> list[Row]:
    rows: list[Row] = []
    with StackProcess(ENVIRONMENT, lambda_concurrency=lambda_concurrency) as stack:
        config = ClientConfig.from_localcore(stack.endpoints)
        endpoints = stack.endpoints
        admin = boto3.client(
            "cognito-idp",
            endpoint_url=endpoints["http"],
            region_name=config.region,
            aws_access_key_id=endpoints["admin_access_key_id"],
            aws_secret_access_key=endpoints["admin_secret_access_key"],
        )
        port = int(str(endpoints["mqtt"]).rsplit(":", 1)[1])
        pump = MqttPump()
        firehose = FirehoseDashboard(pump, dashboard_session(config, admin, "firehose"))
        chats = [Chat(pump, port) for _ in range(max(chat_ladder))]
        dashboards: list[FeedDashboard] = []
        try:
            step(stack, chats[:1], [], firehose, 0.1)  # warm up: the prompt function's cold start
            for count in sorted(dashboard_counts):
                while len(dashboards) < count:
                    session = dashboard_session(config, admin, "board")
                    dashboards.append(FeedDashboard(session, config.dashboard_shards).connect(pump))
                for chat_count in chat_ladder:
                    row = step(stack, chats[:chat_count], dashboards, firehose, seconds)
                    print(f"  {count} dashboards, {chat_count} chats: {row}", file=sys.stderr, flush=True)
                    rows.append(row)
        finally:
            for chat in chats:
                chat.close()
            for dashboard in dashboards:
                dashboard.close()
            firehose.close()
            pump.close()
    return rows


def table(rows: list[Row], shards: int, lambda_concurrency: int) -> str:
    lines = [
        f"Scripted model {TOKENS_PER_S} tokens/s, {TOKENS} tokens per answer; {shards} shards, one connection "
        f"per shard per dashboard; Lambda concurrency {lambda_concurrency}; AWS IoT per-connection limits on.",
        "",
        "| dashboards | chats | answers | failed | answers/s | first event p50 ms | p99 ms | peak live streams "
        "| feed updates | worst dashboard: updates | finals | dashboards at 100% | busiest shard msgs/s "
        "| old design: loss |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.dashboards} | {r.chats} | {r.answers} | {r.failed} | {r.answers / r.seconds:.1f} | "
            f"{r.ttfe_p50_ms:.0f} | {r.ttfe_p99_ms:.0f} | {r.peak_live_streams} | {r.feed_published} | "
            f"{r.worst_feed_pct:.2f}% | {r.worst_finals_pct:.2f}% | {r.dashboards_complete}/{r.dashboards} | "
            f"{r.busiest_shard_per_s} | {r.firehose_loss_pct:.1f}% of {r.firehose_published} |"
        )
    return "\n".join(lines)


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for count in sorted({r.dashboards for r in rows}):
        chosen = [r for r in rows if r.dashboards == count]
        chats = [r.chats for r in chosen]
        left.plot(
            chats, [r.worst_feed_pct for r in chosen], marker="o", label=f"feed, worst of {count} dashboards"
        )
        left.plot(
            chats,
            [100 - r.firehose_loss_pct for r in chosen],
            marker="x",
            linestyle=":",
            label=f"old design ({count} dashboards)",
        )
        right.plot(chats, [r.ttfe_p50_ms for r in chosen], marker="o", label=f"p50 ({count} dashboards)")
        right.plot(
            chats,
            [r.ttfe_p99_ms for r in chosen],
            marker="s",
            linestyle="--",
            label=f"p99 ({count} dashboards)",
        )
    left.set(
        xscale="log", xlabel="concurrent chats", ylabel="% of published messages received", ylim=(0, 105)
    )
    right.set(xscale="log", yscale="log", xlabel="concurrent chats", ylabel="time to first event (ms)")
    ladder = sorted({r.chats for r in rows})
    for axis in (left, right):
        axis.set_xticks(ladder, [str(n) for n in ladder])
        axis.minorticks_off()
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    figure.suptitle("iotstream: broadcast to dashboards through localcore (AWS IoT limits on)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def _counts(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI-sized: 1 and 10 chats, 1 and 2 dashboards, 4 s"
    )
    parser.add_argument("--chats", default="1,10,50,200", help="the chat ladder (at most 500)")
    parser.add_argument("--dashboards", default="1,10,100", help="dashboard counts (at most 500)")
    parser.add_argument("--seconds", type=float, default=15.0, help="asking time per step (at most 120)")
    parser.add_argument("--lambda-concurrency", type=int, default=default_account_limit())
    parser.add_argument("--plot", type=Path, default=Path(__file__).parent / "results" / "broadcast.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.chats, args.dashboards, args.seconds = "1,10", "1,2", 4.0
    chats = [max(1, min(n, 500)) for n in _counts(args.chats)]
    dashboards = [max(1, min(n, 500)) for n in _counts(args.dashboards)]
    seconds = max(1.0, min(args.seconds, 120.0))
    rows = run(chats, dashboards, seconds, args.lambda_concurrency)
    print(table(rows, shards=8, lambda_concurrency=args.lambda_concurrency))
    plot(rows, args.plot)
    print(f"\nplot: {args.plot}")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2))


if __name__ == "__main__":
    main()
