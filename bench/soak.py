"""The soak: chats asking back to back for minutes, localcore's memory sampled all along.

    python -m bench.soak [--quick] [--chats 50] [--minutes 10] [--every 10] [--plot bench/results/soak.png]
                         [--json FILE]

localcore runs in a child process (`bench.stack_process`) with the ladder's environment (`bench.ladder`) and
`REQUEST_TTL_S` lowered to `SOAK_REQUEST_TTL_S`, so that the state table reaches its steady size (answers per
second x TTL x item size) within the run instead of after an hour; everything else is as `iotstream up` runs.
Every `--every` seconds: answers so far, the resident memory of localcore's process and the proportional
memory (PSS) of its Lambda workers. Flat means: over the second half of the run, memory grows by less than
`FLAT_MB` while thousands of answers go through.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.broadcast_clients import Chat
from bench.ladder import ENVIRONMENT
from bench.mqtt_pump import MqttPump
from bench.stack_process import StackProcess

SOAK_REQUEST_TTL_S = 60
FLAT_MB = 10.0


@dataclass
class Sample:
    seconds: float
    answers: int
    failed: int
    main_rss_mb: float
    workers_pss_mb: float
    workers: int


@dataclass
class Soak:
    chats: int
    minutes: float
    samples: list[Sample]
    load: float

    def half(self) -> tuple[Sample, Sample]:
        """The first sample of the second half and the last one."""
        return self.samples[len(self.samples) // 2], self.samples[-1]

    @property
    def growth_mb(self) -> float:
        first, last = self.half()
        return round((last.main_rss_mb + last.workers_pss_mb) - (first.main_rss_mb + first.workers_pss_mb), 1)

    @property
    def answers_in_second_half(self) -> int:
        first, last = self.half()
        return last.answers - first.answers


def run(chats: int, minutes: float, every: float) -> Soak:
    environment = {**ENVIRONMENT, "REQUEST_TTL_S": str(SOAK_REQUEST_TTL_S)}
    samples: list[Sample] = []
    with StackProcess(environment) as stack:
        port = int(str(stack.endpoints["mqtt"]).rsplit(":", 1)[1])
        pump = MqttPump()
        clients = [Chat(pump, port) for _ in range(chats)]
        answers = failed = 0
        try:
            started = time.monotonic()
            for chat in clients:
                chat.asking.set()
                chat.ask()
            deadline = started + minutes * 60
            while (now := time.monotonic()) < deadline:
                time.sleep(min(every, deadline - now))  # the sampling period of a benchmark
                for chat in clients:
                    chat.give_up(120)
                    finished = chat.take_finished()
                    answers += sum(a.ok for a in finished)
                    failed += sum(not a.ok for a in finished)
                stack.mark()  # the benchmark's own tap in localcore's process keeps nothing from before
                usage = stack.usage()
                sample = Sample(
                    seconds=round(time.monotonic() - started, 1),
                    answers=answers,
                    failed=failed,
                    main_rss_mb=round(usage.main_rss_kb / 1024, 1),
                    workers_pss_mb=round(usage.workers_pss_kb / 1024, 1),
                    workers=usage.workers,
                )
                samples.append(sample)
                print(f"  {sample}", file=sys.stderr, flush=True)
        finally:
            for chat in clients:
                chat.asking.clear()
                chat.close()
            pump.close()
    return Soak(chats, minutes, samples, round(os.getloadavg()[0], 1))


def table(soak: Soak) -> str:
    first, last = soak.half()
    verdict = "flat" if soak.growth_mb < FLAT_MB else "GROWING"
    return "\n".join(
        [
            "| chats | minutes | answers | failed | localcore RSS MB (half-time → end) "
            "| workers PSS MB (half-time → end) | workers | growth over the second half | load |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {soak.chats} | {soak.minutes:g} | {last.answers} | {last.failed} | "
            f"{first.main_rss_mb:.0f} → {last.main_rss_mb:.0f} | {first.workers_pss_mb:.0f} → "
            f"{last.workers_pss_mb:.0f} | {last.workers} | {soak.growth_mb:+.1f} MB over "
            f"{soak.answers_in_second_half} answers ({verdict}) | {soak.load} |",
        ]
    )


def plot(soak: Soak, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s.seconds / 60 for s in soak.samples]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(minutes, [s.main_rss_mb for s in soak.samples], marker=".", label="localcore process (RSS)")
    left.plot(minutes, [s.workers_pss_mb for s in soak.samples], marker=".", label="Lambda workers (PSS)")
    left.set(xlabel="minutes", ylabel="MB", ylim=(0, None))
    left.legend(fontsize=8)
    right.plot(minutes, [s.answers for s in soak.samples], marker=".", color="green")
    right.set(xlabel="minutes", ylabel="answers completed")
    figure.suptitle(f"iotstream soak: {soak.chats} chats asking back to back through localcore")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 10 chats for 1 minute")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10.0, help="at most 60")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--plot", type=Path, default=Path(__file__).parent / "results" / "soak.png")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.chats, args.minutes, args.every = 10, 1.0, 5.0
    soak = run(max(1, min(args.chats, 500)), max(0.5, min(args.minutes, 60.0)), max(1.0, args.every))
    print(table(soak))
    plot(soak, args.plot)
    print(f"\nplot: {args.plot}")
    if args.json is not None:
        args.json.write_text(json.dumps({**asdict(soak), "growth_mb": soak.growth_mb}, indent=2))


if __name__ == "__main__":
    main()
