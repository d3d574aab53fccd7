"""What the event lines cost the broker: routing messages with and without `BrokerEvents` (the listener that
turns every accepted message into a PUBLISH line), in the same process, plus a follower reading them live.

    python -m bench.events [--messages 50000] [--plot bench/results/events.png]

Rows: the reference is `Broker.route` with no listener and no subscriber; then with the event listener; then
with the listener and one live follower (what `iotstream logs -f` adds). Bounded in count; no assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from localcore.broker.broker import Broker
from localcore.broker.message import Message, Publisher
from localcore.observe import EventLog
from localcore.observe.sources import BrokerEvents

PAYLOAD = b'{"temperature": 21.5, "humidity": 48}'


def _messages(count: int) -> list[Message]:
    publisher = Publisher("greenhouse-1", "greenhouse-1", "127.0.0.1", "trace")
    return [
        Message("greenhouse/greenhouse-1/readings", PAYLOAD, 1, publisher=publisher) for _ in range(count)
    ]


def _rate(route: Callable[[Message], None], messages: list[Message], rounds: int = 3) -> float:
    """Messages per second, the best of `rounds` (the machine is shared: the best run is the least disturbed)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for message in messages:
            route(message)
        best = min(best, time.perf_counter() - started)
    return len(messages) / best


async def _measure(count: int) -> list[tuple[str, float]]:
    messages = _messages(count)
    reference = Broker()
    rows = [("reference: Broker.route, no listener", _rate(lambda m: reference.route(m, None), messages))]
    observed = Broker()
    events = EventLog()
    observed.add_listener(BrokerEvents(events, lambda client_id: None))
    rows.append(
        ("with the event listener (PUBLISH lines)", _rate(lambda m: observed.route(m, None), messages))
    )
    with events.follow() as follower:
        rate = _rate(lambda m: observed.route(m, None), messages, rounds=1)
        events.close()
        read = sum([1 async for _ in follower])
    rows.append((f"with the listener and a live follower ({read} lines read)", rate))
    return rows


def plot(rows: list[tuple[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 3))
    axes.barh([name for name, _ in rows][::-1], [rate / 1000 for _, rate in rows][::-1], color="#4c72b0")
    axes.set_xlabel("thousand messages routed per second (one core)")
    axes.set_title("Broker.route with localcore's event lines")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--plot", type=Path, default=Path(__file__).parent / "results" / "events.png")
    args = parser.parse_args()
    rows = asyncio.run(_measure(args.messages))
    reference = rows[0][1]
    print(f"{'path':<60}{'messages/s':>12}{'vs reference':>14}{'µs added':>10}")
    for name, rate in rows:
        added = (1 / rate - 1 / reference) * 1e6
        print(f"{name:<60}{rate:>12,.0f}{rate / reference:>13.2f}x{added:>10.2f}")
    plot(rows, args.plot)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
