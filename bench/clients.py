"""What a terminal user sees from the embedded model: time to first token and tokens/s, through the whole stack.

    python -m bench.clients [--answers 5] [--max-tokens 120] [--transports mqtt5,paho] [--plot bench/results/clients.png]

localcore runs with the embedded SmolLM2 model (`LLM_PROVIDER=local`); a Cognito user asks through `clients.Client`
(the code `iotstream chat` runs: MQTT 5 over SigV4 WebSockets -> IoT rule -> prompt Lambda -> iot-data Publish ->
the client). The first answer loads the model and is reported apart ("cold"). The reference, measured in the same
run on the same answers, is the service's own view from the `end` event's metrics: `ttft_ms` (prompt received by
the Lambda -> first model token) and tokens per second of generation; the ratio shows what the trip through the
broker, the rule and the Lambda runtime adds.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass
from pathlib import Path

from clients import Client, sign_in_user
from clients.local_app import local_config
from clients.targets import local_target
from clients.transport import TRANSPORTS, TransportName
from localcore.functions import FunctionSettings
from localcore.iam.private_files import write_private_json
from localcore.testing import RunningLocalcore

QUESTIONS = (
    "Explain in two sentences why streaming an answer feels faster than waiting for all of it.",
    "What is MQTT, in one paragraph?",
    "Name three uses of publish/subscribe messaging.",
    "Why do chat applications stream tokens?",
    "Describe WebSockets to a new programmer.",
)


@dataclass
class Measured:
    transport: TransportName
    cold: bool
    ttft_ms: float  # client: prompt published -> first text received
    service_ttft_ms: float  # Lambda: prompt received -> first model token
    tokens_per_s: float  # client: tokens / (end received - first text received)
    service_tokens_per_s: float  # Lambda: tokens / (duration - ttft)
    tokens: int
    messages: int


def measure(answers: int, max_tokens: int, transports: list[TransportName], ready: Path) -> list[Measured]:
    functions = FunctionSettings(environment={"LLM_PROVIDER": "local"})
    results: list[Measured] = []
    with RunningLocalcore(local_config(functions=functions)) as core:
        write_private_json(ready, core.endpoints)
        session = sign_in_user(local_target(ready), "bench-user")
        for transport in transports:
            with Client(session, transport=transport, idle_timeout=300) as chat:
                for index in range(answers + (1 if not results else 0)):
                    answer = chat.ask(QUESTIONS[index % len(QUESTIONS)], max_tokens=max_tokens).wait()
                    metrics = answer.metrics
                    generation_s = (float(metrics["duration_ms"]) - float(metrics["ttft_ms"])) / 1000
                    results.append(
                        Measured(
                            transport,
                            cold=not results,
                            ttft_ms=(answer.ttft_s or 0) * 1000,
                            service_ttft_ms=float(metrics["ttft_ms"]),
                            tokens_per_s=answer.tokens_per_s or 0,
                            service_tokens_per_s=answer.tokens / generation_s if generation_s > 0 else 0,
                            tokens=answer.tokens,
                            messages=answer.messages,
                        )
                    )
    return results


def report(results: list[Measured]) -> str:
    lines = [
        "| answers | transport | TTFT client ms (median) | TTFT service ms | client/service | "
        "tokens/s client | tokens/s service | tokens | messages |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[bool, str], list[Measured]] = {}
    for result in results:
        groups.setdefault((result.cold, result.transport), []).append(result)
    for (cold, transport), rows in groups.items():

        def median(name: str, rows: list[Measured] = rows) -> float:
            return float(statistics.median(getattr(row, name) for row in rows))

        ratio = median("ttft_ms") / median("service_ttft_ms") if median("service_ttft_ms") else float("nan")
        label = "cold (loads the model)" if cold else f"{len(rows)} warm"
        lines.append(
            f"| {label} | {transport} | {median('ttft_ms'):.0f} | {median('service_ttft_ms'):.0f} | {ratio:.2f} | "
            f"{median('tokens_per_s'):.1f} | {median('service_tokens_per_s'):.1f} | {median('tokens'):.0f} | "
            f"{median('messages'):.0f} |"
        )
    return "\n".join(lines)


def plot(results: list[Measured], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    warm = [r for r in results if not r.cold]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    labels = [f"{r.transport}\n#{i}" for i, r in enumerate(warm)]
    positions = range(len(warm))
    left.bar([p - 0.2 for p in positions], [r.ttft_ms for r in warm], 0.4, label="client")
    left.bar(
        [p + 0.2 for p in positions], [r.service_ttft_ms for r in warm], 0.4, label="service (reference)"
    )
    left.set(title="time to first token (ms)", xticks=list(positions), xticklabels=labels)
    right.bar([p - 0.2 for p in positions], [r.tokens_per_s for r in warm], 0.4, label="client")
    right.bar([p + 0.2 for p in positions], [r.service_tokens_per_s for r in warm], 0.4, label="service")
    right.set(title="tokens per second", xticks=list(positions), xticklabels=labels)
    left.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=5, help="warm answers per transport")
    parser.add_argument("--max-tokens", type=int, default=120)
    parser.add_argument("--transports", default="mqtt5,paho")
    parser.add_argument("--plot", type=Path, default=Path("bench/results/clients.png"))
    parser.add_argument("--ready-file", type=Path, default=Path("bench/results/clients-ready.json"))
    args = parser.parse_args()
    transports = [name for name in TRANSPORTS if name in args.transports.split(",")]
    results = measure(args.answers, args.max_tokens, transports, args.ready_file)
    print(report(results))
    plot(results, args.plot)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
