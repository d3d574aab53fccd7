"""`make bench`: run every benchmark and write docs/benchmarks.md from what they printed.

    python -m bench.report [--quick] [--output docs/benchmarks.md] [--only ladder,soak,...]

Each benchmark runs as its own process (`python -m bench.<name> ...`, bounded by `--timeout`); its standard
output is copied into the page as it was printed, so the numbers on the page are the numbers the commands
printed. The load average before and after each one is noted next to it: the machine may be shared (`--only`
reruns a noisy one and keeps the others' last output, from bench/results/report/). A few
summary lines are computed from the benchmarks' JSON output (the goals of issue 12) and say so. `--quick` runs
CI-sized versions and writes its page into `bench/results/` instead of the docs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report_text import HEADER, SECTION_TEXT, cost_table, goals

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs"


@dataclass
class Section:
    """One benchmark: the command, its full and quick arguments, and where its plot and JSON go."""

    name: str
    title: str
    full: list[str]
    quick: list[str]
    plot: bool = False
    json: bool = False
    fenced: bool = False
    """Its output is not markdown (a fixed-width table): shown as printed, in a code block."""


SECTIONS = [
    Section("ladder", "The end-to-end ladder", [], ["--quick"], plot=True, json=True),
    Section("profile", "Where the CPU of an answer goes", [], ["--chats", "4", "--seconds", "8"]),
    Section("floor", "The floor of an answer's CPU", [], ["--answers", "2"], json=True),
    Section("soak", "The soak: memory over time", [], ["--quick"], plot=True, json=True),
    Section("memory", "Memory per connection and per stream", [], ["--quick"], json=True),
    Section(
        "broadcast",
        "Broadcast to dashboards",
        ["--chats", "10,50", "--dashboards", "1,10,100", "--seconds", "10"],
        ["--quick"],
        plot=True,
        json=True,
    ),
    Section("flood", "Flood: a victim while others flood", [], ["--quick"], plot=True, json=True),
    Section(
        "broker",
        "The broker against mosquitto",
        ["--scale", "0.5", "--rounds", "2", "--latency-samples", "500"],
        ["--scale", "0.05", "--rounds", "1", "--latency-samples", "100"],
    ),
    Section("policy", "Policy decisions per second", [], ["--seconds", "0.1"], fenced=True),
    Section("rules", "Rule evaluations per second", [], ["--messages", "50", "--burst", "20"], fenced=True),
    Section(
        "rule_actions",
        "Rule actions that write to AWS services",
        ["--messages", "300"],
        ["--messages", "30"],
        plot=True,
    ),
    Section(
        "devices",
        "Devices: certificates, TLS connects and publishes",
        [],
        ["--connects", "5", "--messages", "200"],
        plot=True,
    ),
    Section(
        "events",
        "Event lines: what `iotstream logs` costs the broker",
        [],
        ["--messages", "5000"],
        plot=True,
        fenced=True,
    ),
]


@dataclass
class Ran:
    section: Section
    command: str
    output: str
    seconds: float
    load_before: float
    load_after: float
    failed: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    when: str = ""

    def save(self, path: Path) -> None:
        """Kept in bench/results/report/, so that `--only` reruns one benchmark and keeps the others' output."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fields = ("command", "output", "seconds", "load_before", "load_after", "failed", "data", "when")
        path.write_text(json.dumps({name: getattr(self, name) for name in fields}, indent=1))

    @classmethod
    def load(cls, section: Section, path: Path) -> Ran | None:
        if not path.exists():
            return None
        return cls(section, **json.loads(path.read_text()))


def _saved(section: Section, quick: bool) -> Path:
    return RESULTS / "report" / f"{section.name}{'-quick' if quick else ''}.json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def run_section(section: Section, quick: bool, images: Path, timeout: float) -> Ran:
    arguments = list(section.quick if quick else section.full)
    if section.plot:
        arguments += ["--plot", str(images / f"{section.name}.png")]
    json_path = RESULTS / f"{section.name}{'-quick' if quick else ''}.json"
    if section.json:
        arguments += ["--json", str(json_path)]
    command = [sys.executable, "-m", f"bench.{section.name}", *arguments]
    shown = " ".join(["python", "-m", f"bench.{section.name}", *arguments]).replace(str(ROOT) + "/", "")
    log = RESULTS / "logs" / f"{section.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"{section.name}: {shown}", file=sys.stderr, flush=True)
    before, started = _load(), time.monotonic()
    try:
        with log.open("w") as errors:
            done = subprocess.run(
                command,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                timeout=timeout,
                check=False,
            )
        output, failed = done.stdout, None if done.returncode == 0 else f"exit status {done.returncode}"
    except subprocess.TimeoutExpired as expired:
        output, failed = str(expired.stdout or ""), f"stopped after {timeout:.0f} s"
    ran = Ran(section, shown, output.strip(), round(time.monotonic() - started), before, _load(), failed)
    ran.when = _now()
    if failed:
        print(f"  {section.name} failed ({failed}); see {log.relative_to(ROOT)}", file=sys.stderr)
    elif section.json and json_path.exists():
        ran.data = json.loads(json_path.read_text())
    ran.save(_saved(section, quick))
    return ran


def render(runs: list[Ran], quick: bool, images: Path, output: Path) -> str:
    def image(name: str) -> str:
        return os.path.relpath(images / f"{name}.png", output.parent)

    by_name = {ran.section.name: ran for ran in runs}
    lines = [
        HEADER.format(
            command="python -m bench.report" + (" --quick" if quick else ""),
            cores=os.cpu_count(),
            memory_gb=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1),
            python=platform.python_version(),
            started=min((ran.when for ran in runs), default=_now()),
            minutes=round(sum(ran.seconds for ran in runs) / 60, 1),
        )
    ]
    summary = goals(by_name)
    if summary:
        lines += ["## The goals (issue 12), as measured in this run", "", *summary, ""]
    for ran in runs:
        section = ran.section
        lines += [f"## {section.title}", "", SECTION_TEXT[section.name].strip(), ""]
        lines += ["```", ran.command, "```", ""]
        lines += [
            f"Ran {ran.seconds} s, finished {ran.when}; load average {ran.load_before} before, "
            f"{ran.load_after} after.",
            "",
        ]
        if ran.failed:
            lines += [f"**This benchmark did not finish ({ran.failed}).**", ""]
        if ran.output:
            printed = ran.output.replace(str(ROOT) + "/", "")  # paths as the repository names them
            lines += ["```", printed, "```"] if section.fenced else [printed]
            lines += [""]
        if section.plot and (images / f"{section.name}.png").exists():
            lines += [f"![{section.title}]({image(section.name)})", ""]
        if section.name == "ladder" and ran.data:
            lines += [*cost_table(ran.data), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized runs, written to bench/results/")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--only", default="", help="rerun these (comma-separated); the others keep their last output"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark")
    args = parser.parse_args(argv)
    quick_page = (RESULTS / "benchmarks-quick").with_suffix(".md")  # generated, not in the repository
    output = args.output or (quick_page if args.quick else DOCS / "benchmarks.md")
    images = RESULTS / "images" if args.quick else DOCS / "images"
    images.mkdir(parents=True, exist_ok=True)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()}
    runs: list[Ran] = []
    for section in SECTIONS:
        if not chosen or section.name in chosen:
            runs.append(run_section(section, args.quick, images, args.timeout))
        elif (kept := Ran.load(section, _saved(section, args.quick))) is not None:
            runs.append(kept)  # not rerun: its last output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(runs, args.quick, images, output))
    print(f"wrote {output.relative_to(ROOT)}", file=sys.stderr)
    if any(ran.failed for ran in runs):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
