"""Where the CPU of an answer goes: py-spy samples localcore's process and its Lambda workers under load.

    python -m bench.profile [--chats 8] [--seconds 20] [--raw bench/results/profile.txt] [--top 12]

localcore runs in a child process (`bench.stack_process`) with the ladder's environment (`bench.ladder`);
`--chats` chats ask back to back while `py-spy record --subprocesses` samples every thread of the stack and
of its workers (`--rate` samples per second; only threads holding the GIL, so waiting threads are left out). The summary charges each sample to the
process kind (localcore or a Lambda worker) and to the package of the innermost frame that is not the standard
library's (`botocore`, `moto`, `localcore.broker`, ...), so "whose code burns the CPU" reads off one table;
the raw collapsed stacks are kept for a flame graph. py-spy needs ptrace (root, or
`kernel.yama.ptrace_scope=0`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.broadcast import run_step
from bench.broadcast_clients import Chat
from bench.ladder import ENVIRONMENT, WARM_UP_S
from bench.mqtt_pump import MqttPump
from bench.stack_process import StackProcess

_FRAME_FILE = re.compile(r"\((?P<file>[^:()<>]+\.py):\d+\)$")
_DEEPER = {"localcore": 2, "iotstream_lambdas": 3}
"""Packages shown deeper, to this many levels (`localcore.broker`, `iotstream_lambdas.streaming.publisher`)."""


@dataclass
class Profile:
    answers: int
    seconds: float
    cpu_main_ms: float
    """localcore's process, per answer (from /proc, not from samples)."""
    cpu_workers_ms: float
    samples: Counter[tuple[str, str]]
    """(process kind, package) -> samples."""

    def share(self, kind: str) -> list[tuple[str, float]]:
        """Packages of one process kind, by share of that kind's samples (%), largest first."""
        total = sum(n for (k, _), n in self.samples.items() if k == kind) or 1
        rows = [(package, 100 * n / total) for (k, package), n in self.samples.items() if k == kind]
        return sorted(rows, key=lambda row: -row[1])


def package_of(stack: list[str]) -> str:
    """The package of the innermost frame outside the standard library (`stdlib` when there is none).

    py-spy names files relative to their `sys.path` entry: `botocore/endpoint.py`, `localcore/broker/broker.py`."""
    for frame in reversed(stack):
        match = _FRAME_FILE.search(frame)
        if match is None:
            continue
        parts = match["file"].removesuffix(".py").split("/")
        if parts[0] in sys.stdlib_module_names or parts[0].startswith("/"):
            continue
        return ".".join(parts[: _DEEPER.get(parts[0], 1)])
    return "stdlib"


def summarise(raw: str, main_pid: int) -> Counter[tuple[str, str]]:
    """py-spy's raw output (`process P:"cmd";thread (..);frame;... count` per line) by process and package."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in raw.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        frames = stack_text.split(";")
        pids = [int(match[1]) for frame in frames if (match := re.match(r"process (\d+):", frame))]
        kind = "localcore" if pids[-1:] == [main_pid] else "worker"
        counts[(kind, package_of(frames))] += int(count)
    return counts


def run(chats: int, seconds: float, rate: int, raw_path: Path) -> Profile:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with StackProcess(ENVIRONMENT) as stack:
        port = int(str(stack.endpoints["mqtt"]).rsplit(":", 1)[1])
        pump = MqttPump()
        clients = [Chat(pump, port) for _ in range(chats)]
        try:
            # Cold starts are not what we profile: every chat asks for a while first, so that the workers the load
            # needs are all started (one answer each left a third of the workers to start while sampling).
            run_step(stack, clients, [], WARM_UP_S)
            raw_path.parent.mkdir(parents=True, exist_ok=True)
            command = [spy, "record", "--pid", str(stack.pid), "--subprocesses", "--gil", "--format", "raw"]
            command += ["--rate", str(rate), "--duration", str(round(seconds)), "--output", str(raw_path)]
            recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)  # py-spy attaches to every process first; then the load starts
            before = stack.usage()
            result = run_step(stack, clients, [], max(1.0, seconds - 4))
            after = stack.usage()
            _, errors = recorder.communicate(timeout=seconds + 60)
            if recorder.returncode != 0:
                raise RuntimeError(f"py-spy failed: {errors.strip()}")
        finally:
            for client in clients:
                client.close()
            pump.close()
    main_s, workers_s = after.cpu_since(before)
    answers = max(1, len(result.answers))
    return Profile(
        answers=len(result.answers),
        seconds=round(result.elapsed, 1),
        cpu_main_ms=round(main_s * 1000 / answers, 1),
        cpu_workers_ms=round(workers_s * 1000 / answers, 1),
        samples=summarise(raw_path.read_text(), stack.pid),
    )


def table(profile: Profile, top: int) -> str:
    lines = [
        f"{profile.answers} answers in {profile.seconds} s; CPU per answer: localcore process "
        f"{profile.cpu_main_ms:.1f} ms, Lambda workers {profile.cpu_workers_ms:.1f} ms",
        "",
        "| process | package (innermost non-stdlib frame) | share of the process's samples |",
        "|---|---|---:|",
    ]
    for kind in ("worker", "localcore"):
        for package, share in profile.share(kind)[:top]:
            lines.append(f"| {kind} | {package} | {share:.1f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chats", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="sampling time (at most 120)")
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--raw", type=Path, default=Path(__file__).parent / "results" / "profile.txt")
    parser.add_argument("--top", type=int, default=12, help="packages shown per process kind")
    args = parser.parse_args(argv)
    profile = run(max(1, min(args.chats, 200)), max(5.0, min(args.seconds, 120.0)), args.rate, args.raw)
    print(table(profile, args.top))
    print(f"\nraw collapsed stacks: {args.raw}")


if __name__ == "__main__":
    main()
