"""The victim's time to first token while others flood localcore, and localcore's memory before, during, after.

    python -m bench.flood [--quick] [--rounds 2] [--plot bench/results/flood.png] [--json FILE]

localcore runs in a child process (`bench.stack_process`, as `iotstream up` runs it: local mode, AWS IoT's
per-connection limits on, the default Lambda concurrency) with the scripted model. The phases:

1. **idle**: the victim (a local-mode user, `bench.flood_clients.Victim`) asks `--answers` questions one at a
   time; each answer's time to first token (TTFT) is the reference. Each phase has a victim of its own, so
   that the prompt service's limit of 10 prompts a minute per identity never refuses the victim.
2. **flood**: one user publishes prompts from `--flood-connections` connections at AWS IoT's limit of 100
   publishes/s each, and another holds `--idle-sockets` idle sockets, half on the HTTP gateway and half on
   the MQTT port (reopened within a second when localcore closes them). The victim asks again while it lasts
   (at least `--flood-seconds`).
3. **after**: the attackers stop; once every Lambda invocation they caused has finished (or
   `--drain-seconds` passed) and `--settle-seconds` more (localcore's connection deadlines are 10 s), the
   victim asks again.
4. phases 2 and 3 again, `--rounds` times in all (2 by default): memory that a first attack leaves behind and
   a second does not add to is bounded (histories filled to their bounds), not a leak.

Every wait is bounded: the victim gives an answer `ANSWER_TIMEOUT_S` (the chat client's idle timeout) and
counts it failed after that; the flood phase ends by `--flood-seconds` plus one answer's timeout.

localcore's resident memory (its process; its Lambda workers apart) is sampled twice a second throughout.
The goal (issue 10): flood TTFT within 2x of idle, and memory back to the idle baseline afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.flood_clients import Asked, IdleSockets, MemorySampler, PromptFlood, Sample, Victim
from bench.mqtt_pump import MqttPump
from bench.stack_process import StackProcess
from localcore.http.connections import raise_open_files_limit
from localcore.lambda_runtime.concurrency import default_account_limit

TOKENS, TOKENS_PER_S = 60, 200
ENVIRONMENT = {
    "LLM_PROVIDER": "scripted",
    "SCRIPTED_TEXT": " ".join(f"token{i}" for i in range(TOKENS)),
    "SCRIPTED_TOKENS_PER_S": str(TOKENS_PER_S),
}
ANSWER_TIMEOUT_S = 30.0
FLOOD_RAMP_S = 3.0  # the flood and the sockets build up before the victim asks


@dataclass
class Phase:
    name: str
    asked: list[Asked]
    memory: Sample  # at the end of the phase
    peak: Sample  # the largest stack RSS sampled during the phase
    live_blocks: int  # localcore's live Python objects at the end of the phase (`StackProcess.live_blocks`)

    @property
    def ttfts_ms(self) -> list[float]:
        """Each answer's TTFT; an answer without text within `ANSWER_TIMEOUT_S` counts as that timeout."""
        timeout_ms = ANSWER_TIMEOUT_S * 1000
        return [timeout_ms if a.ttft_s is None else a.ttft_s * 1000 for a in self.asked]

    @property
    def ttft_p50_ms(self) -> float:
        return statistics.median(self.ttfts_ms)

    @property
    def timed_out(self) -> int:
        return sum(a.ttft_s is None for a in self.asked)


@dataclass
class Flooded:
    prompts_sent: int
    prompts_per_s: float
    sockets_opened: int
    sockets_reopened: int
    sockets_open_at_end: int
    drained_s: (
        float | None
    )  # how long the Lambda backlog took to finish once the flood stopped (None: not within --drain-seconds)


def ask(pump: MqttPump, port: int, answers: int, until: float | None = None) -> list[Asked]:
    """A new victim's answers, one at a time (until the monotonic time `until`, when given)."""
    victim = Victim(pump, port)
    try:
        asked: list[Asked] = []
        while len(asked) < answers and (until is None or time.monotonic() < until):
            asked.append(victim.ask(ANSWER_TIMEOUT_S))
        return asked
    finally:
        victim.close()


def phase(stack: StackProcess, name: str, sampler: MemorySampler, asked: list[Asked], since: int) -> Phase:
    end = sampler.sample()
    during = [s for s in sampler.samples[since:] if s.phase == name] or [end]
    return Phase(name, asked, end, max(during, key=lambda s: s.stack_mb), stack.live_blocks())


def run(args: argparse.Namespace) -> tuple[list[Phase], list[Flooded], list[Sample]]:
    limit = raise_open_files_limit()
    if limit < args.idle_sockets + 256:
        sys.exit(f"error: {args.idle_sockets} idle sockets need more open files than this process may have "
                 f"({limit}); raise the hard limit (ulimit -Hn) or pass --idle-sockets {limit - 256}")  # fmt: skip
    with StackProcess(ENVIRONMENT, lambda_concurrency=default_account_limit()) as stack:
        endpoints = stack.endpoints
        mqtt_port = int(str(endpoints["mqtt"]).rsplit(":", 1)[1])
        http_port = int(str(endpoints["http"]).rsplit(":", 1)[1])
        pump = MqttPump()
        sampler = MemorySampler(stack.pid).start()
        try:
            ask(pump, mqtt_port, 1)  # the prompt function's cold start
            phases: list[Phase] = []
            sampler.phase, mark = "idle", len(sampler.samples)
            phases.append(phase(stack, "idle", sampler, ask(pump, mqtt_port, args.answers), mark))

            floods: list[Flooded] = []
            for round_ in range(1, args.rounds + 1):
                suffix = "" if args.rounds == 1 else f" {round_}"
                flooded, during = flood_round(stack, pump, sampler, args, mqtt_port, http_port, suffix)
                floods.append(flooded)
                phases += during
        finally:
            pump.close()
            sampler.stop()
    return phases, floods, sampler.samples


def flood_round(
    stack: StackProcess,
    pump: MqttPump,
    sampler: MemorySampler,
    args: argparse.Namespace,
    mqtt_port: int,
    http_port: int,
    suffix: str,
) -> tuple[Flooded, list[Phase]]:
    """One attack and its aftermath: the phases `flood{suffix}` and `after{suffix}`."""
    sampler.phase, mark = f"flood{suffix}", len(sampler.samples)
    flood = PromptFlood(pump, mqtt_port, args.flood_connections)
    sockets = IdleSockets([("127.0.0.1", http_port), ("127.0.0.1", mqtt_port)], args.idle_sockets // 2)
    started = time.monotonic()
    sockets.start()
    flood.start()
    time.sleep(FLOOD_RAMP_S)  # the benchmark's clock: let the attack build up
    asked = ask(pump, mqtt_port, args.answers, until=started + args.flood_seconds)
    time.sleep(max(0.0, started + args.flood_seconds - time.monotonic()))
    open_at_end = sockets.open_now
    flood.stop()
    sent_per_s = round(flood.sent / (time.monotonic() - started), 1)
    sockets.stop()
    flooded_phase = phase(stack, f"flood{suffix}", sampler, asked, mark)

    sampler.phase = f"settling{suffix}"
    stopped = time.monotonic()
    drained = stack.wait_idle(args.drain_seconds)  # the Lambda backlog the flood left
    drained_s = round(time.monotonic() - stopped, 1) if drained else None
    time.sleep(args.settle_seconds)  # localcore's connection deadlines pass
    flooded = Flooded(flood.sent, sent_per_s, sockets.opened, sockets.reopened, open_at_end, drained_s)
    sampler.phase, mark = f"after{suffix}", len(sampler.samples)
    after = phase(stack, f"after{suffix}", sampler, ask(pump, mqtt_port, args.answers), mark)
    return flooded, [flooded_phase, after]


def table(phases: list[Phase], floods: list[Flooded], args: argparse.Namespace) -> str:
    idle = phases[0]
    lines = [
        f"Scripted model {TOKENS_PER_S} tokens/s; Lambda concurrency {default_account_limit()}; {len(floods)} "
        f"round(s) of attack, each: {args.flood_connections} connections x 100 prompts/s and "
        f"{args.idle_sockets} idle sockets for {args.flood_seconds:.0f} s.",
    ]
    for round_, flooded in enumerate(floods, 1):
        lines.append(
            f"- round {round_}: {flooded.prompts_sent} prompts sent ({flooded.prompts_per_s}/s); "
            f"{flooded.sockets_open_at_end} sockets open at the end, {flooded.sockets_reopened} reopened after "
            f"localcore closed them"
        )
    lines += [
        "",
        f"A TTFT of {ANSWER_TIMEOUT_S * 1000:.0f} ms means no text within the client's {ANSWER_TIMEOUT_S:.0f} s.",
        "",
        "| phase | answers ok | no text in time | TTFT p50 ms | TTFT max ms | p50 vs idle | localcore RSS MB (end) "
        "| peak MB | live Python objects (end) | Lambda workers MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in phases:
        lines.append(
            f"| {p.name} | {sum(a.ok for a in p.asked)}/{len(p.asked)} | {p.timed_out} | {p.ttft_p50_ms:.0f} | "
            f"{max(p.ttfts_ms):.0f} | {p.ttft_p50_ms / idle.ttft_p50_ms:.2f}x | "
            f"{p.memory.stack_mb:.0f} | {p.peak.stack_mb:.0f} | {p.live_blocks:,} | {p.memory.workers_mb:.0f} |"
        )
    lines.append("")
    for round_, flooded in enumerate(floods, 1):
        flood, after = phases[2 * round_ - 1], phases[2 * round_]
        drained = (
            f"finished {flooded.drained_s} s after the flood stopped"
            if flooded.drained_s is not None
            else f"still running {args.drain_seconds:.0f} s after the flood stopped"
        )
        lines += [
            f"- round {round_}: the Lambda invocations the flood caused {drained}; victim TTFT under flood "
            f"{flood.ttft_p50_ms / idle.ttft_p50_ms:.2f}x idle (goal: within 2x); localcore RSS after "
            f"{after.memory.stack_mb:.0f} MB vs {idle.memory.stack_mb:.0f} MB before "
            f"(+{after.memory.stack_mb - idle.memory.stack_mb:.0f} MB; peak {flood.peak.stack_mb:.0f} MB); live "
            f"Python objects {after.live_blocks / idle.live_blocks:.3f}x the idle phase's",
        ]
    return "\n".join(lines)


def plot(phases: list[Phase], samples: list[Sample], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    times = [s.seconds for s in samples]
    left.plot(times, [s.stack_mb for s in samples], label="localcore process")
    left.plot(times, [s.workers_mb for s in samples], label="Lambda workers", linestyle="--")
    colours = {"flood": "tab:red", "settling": "tab:orange", "after": "tab:green"}
    for name in dict.fromkeys(s.phase for s in samples):  # in order of appearance
        colour = colours.get(name.split(" ")[0])
        during = [s.seconds for s in samples if s.phase == name]
        if colour is not None and during:
            left.axvspan(min(during), max(during), color=colour, alpha=0.12, label=name)
    left.set(xlabel="seconds", ylabel="resident memory (MB)", title="localcore's memory")
    left.legend(fontsize=7)
    for index, p in enumerate(phases):
        right.scatter([index] * len(p.ttfts_ms), p.ttfts_ms, label=p.name)
    right.set(
        xticks=range(len(phases)),
        xticklabels=[p.name for p in phases],
        ylabel="time to first token (ms)",
        yscale="log",
        title="the victim's answers",
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized: 2,000 idle sockets, 10 s of flood")
    parser.add_argument("--answers", type=int, default=8, help="the victim's answers per phase (at most 9)")
    parser.add_argument("--flood-connections", type=int, default=5, help="0 (no prompt flood) to 50")
    parser.add_argument("--idle-sockets", type=int, default=10_000, help="0 to 16,000")
    parser.add_argument("--flood-seconds", type=float, default=30.0, help="at most 300")
    parser.add_argument("--drain-seconds", type=float, default=120.0, help="at most 600")
    parser.add_argument("--settle-seconds", type=float, default=15.0, help="at most 120")
    parser.add_argument(
        "--rounds", type=int, default=2, help="attacks one after the other (1 to 5): is what stays bounded?"
    )
    parser.add_argument("--plot", type=Path, default=Path(__file__).parent / "results" / "flood.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the phases as JSON")
    if "--quick" in (sys.argv[1:] if argv is None else argv):  # smaller defaults; explicit options still win
        parser.set_defaults(
            answers=3,
            flood_connections=2,
            idle_sockets=2_000,
            flood_seconds=10.0,
            drain_seconds=60.0,
            rounds=1,
        )
    args = parser.parse_args(argv)
    args.answers = max(1, min(args.answers, 9))  # the prompt service allows 10 a minute per identity
    args.flood_connections = max(0, min(args.flood_connections, 50))
    args.idle_sockets = max(0, min(args.idle_sockets, 16_000))
    args.flood_seconds = max(FLOOD_RAMP_S, min(args.flood_seconds, 300.0))
    args.settle_seconds = max(0.0, min(args.settle_seconds, 120.0))
    args.drain_seconds = max(1.0, min(args.drain_seconds, 600.0))
    args.rounds = max(1, min(args.rounds, 5))
    phases, floods, samples = run(args)
    print(table(phases, floods, args))
    plot(phases, samples, args.plot)
    print(f"\nplot: {args.plot}")
    if args.json is not None:
        document = {"phases": [asdict(p) for p in phases], "floods": [asdict(f) for f in floods]}
        args.json.write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
