"""CPU and memory of a process and its children, read from Linux's /proc (no dependency).

Used by the benchmarks to charge CPU per answer to localcore's main process and to its Lambda workers, and to
follow memory over a soak. `Pss` (proportional set size) splits pages shared between processes (the workers'
Python interpreter and libraries) among them, so summing it over processes does not count shared pages twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0.0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)


def memory_kb(pid: int) -> tuple[int, int]:
    """(Rss, Pss) in KiB (0, 0 when the process is gone)."""
    values = {"Rss:": 0, "Pss:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(" ")
            if key in values:
                values[key] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    return values["Rss:"], values["Pss:"]


def children(pid: int) -> list[int]:
    """The direct children of a process (every thread's children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`."""
    found: list[int] = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


@dataclass(frozen=True)
class Usage:
    """One sample of a process tree: the main process and its children (the Lambda workers)."""

    main_cpu_s: float
    workers_cpu_s: float
    """Live children's CPU plus the CPU of children that already exited (and were waited for)."""
    main_rss_kb: int
    workers_rss_kb: int
    workers_pss_kb: int
    workers: int

    def cpu_since(self, earlier: Usage) -> tuple[float, float]:
        """(main, workers) CPU seconds spent between `earlier` and this sample."""
        return self.main_cpu_s - earlier.main_cpu_s, self.workers_cpu_s - earlier.workers_cpu_s


def sample(pid: int | None = None) -> Usage:
    """Usage of `pid` (default: this process) and its children."""
    pid = os.getpid() if pid is None else pid
    kids = children(pid)
    exited = 0.0
    if pid == os.getpid():
        times = os.times()
        exited = times.children_user + times.children_system
    memories = [memory_kb(child) for child in kids]
    return Usage(
        main_cpu_s=cpu_seconds(pid),
        workers_cpu_s=exited + sum(cpu_seconds(child) for child in kids),
        main_rss_kb=memory_kb(pid)[0],
        workers_rss_kb=sum(rss for rss, _ in memories),
        workers_pss_kb=sum(pss for _, pss in memories),
        workers=len(kids),
    )
