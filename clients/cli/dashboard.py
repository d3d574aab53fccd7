"""`iotstream dashboard`: every stream's status, live, from the sharded dashboard feed.

iotstream dashboard                          # local: the user `dashboard`, created in the group on first use
iotstream dashboard --exit-after 1 --json    # one JSON line per update; leave after one finished answer
iotstream dashboard --aws cdk-outputs.json --user ops-anna
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from clients.cli.signed_in import add_target_arguments, fail, sign_in_from_args
from clients.dashboard_feed import DashboardFeed
from clients.errors import IotstreamClientError
from clients.feed_state import FeedTotals
from clients.targets import Target
from iotstream_lambdas.streaming.status import StreamStatus, dashboard_topic

LOCAL_DASHBOARD_USER = "dashboard"
SPARKS = "▁▂▃▄▅▆▇█"
STATE_STYLES = {"started": "cyan", "streaming": "green", "end": "dim", "error": "red"}
ROWS = 30  # newest streams shown


def configure(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(
        parser,
        f"a user of the `dashboard` group (local default {LOCAL_DASHBOARD_USER!r}, created in the group on first use)",
    )
    parser.add_argument(
        "--exit-after", type=int, metavar="N", help="leave after N answers finished (end or error)"
    )
    parser.add_argument("--json", action="store_true", help="print each status update as one JSON line")


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    target: Target | None = None
    try:
        target, session = sign_in_from_args(
            args, LOCAL_DASHBOARD_USER, dashboard=True, notice=lambda line: console.print(line, style="dim")
        )
        with DashboardFeed(session, transport=args.transport) as feed:
            console.print(
                f"dashboard: {session.username} reads {dashboard_topic(0)} … {dashboard_topic(feed.shards - 1)} "
                f"({feed.shards} connections)",
                style="dim",
            )
            if args.json or not sys.stdout.isatty():
                return _print_updates(feed, args.exit_after, args.json)
            return _live_table(feed, args.exit_after)
    except IotstreamClientError as error:
        return fail("dashboard", error, target)
    except KeyboardInterrupt:
        return 0  # the way to leave a dashboard


def _print_updates(feed: DashboardFeed, exit_after: int | None, as_json: bool) -> int:
    finished = 0
    for status in feed:
        print(json.dumps(status.to_json()) if as_json else _line(status), flush=True)
        finished += status.final
        if exit_after is not None and finished >= exit_after:
            return 0
    return 0


def _line(status: StreamStatus) -> str:
    cells = _cells(status, int(time.time() * 1000))
    return "  ".join(cell.plain if isinstance(cell, Text) else cell for cell in cells)


def _live_table(feed: DashboardFeed, exit_after: int | None) -> int:
    with Live(
        console=Console(), refresh_per_second=4, get_renderable=lambda: render(*feed.snapshot())
    ) as live:
        while exit_after is None or feed.state.completed < exit_after:
            feed.next_update(timeout=0.25)
        live.refresh()
    return 0


def render(streams: list[StreamStatus], totals: FeedTotals, rate: list[int]) -> Group:
    """The table of the newest streams, then totals and the token-rate sparkline."""
    table = Table(expand=False, header_style="bold")
    for column in ("user", "request", "state", "tokens", "tokens/s", "first token", "age"):
        table.add_column(column, justify="left" if column in ("user", "request", "state") else "right")
    now_ms = int(time.time() * 1000)
    for status in streams[-ROWS:]:
        table.add_row(*_cells(status, now_ms))
    errors = f" ({totals.errors} errors)" if totals.errors else ""
    summary = Text.assemble(
        (f"live {totals.live} · finished {totals.completed}{errors} · {totals.tokens:,} tokens · ", "bold"),
        ("tokens/s (30 s) ", "dim"),
        (sparkline(rate), "green"),
        (f" {sum(rate[-5:]) / 5:.0f}/s over 5 s", "bold"),
    )
    return Group(table, summary)


def _cells(status: StreamStatus, now_ms: int) -> list[str | Text]:
    user = status.identity.split(":", 1)[-1][:8]
    end_ms = status.ts if status.final else now_ms
    state = (status.stop or status.state) if status.state == "end" else (status.code or status.state)
    return [
        user,
        status.rid[:8],
        Text(state, style=STATE_STYLES.get(status.state, "")),
        str(status.tokens),
        "" if status.tokens_per_s is None else f"{status.tokens_per_s:.1f}",
        "" if status.ttft_ms is None else f"{status.ttft_ms:.0f} ms",
        f"{max(0, end_ms - status.started) / 1000:.1f} s",
    ]


def sparkline(values: list[int]) -> str:
    """One block character per value, scaled to the largest (all low when nothing happened)."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, value * len(SPARKS) // (top + 1))] for value in values)
