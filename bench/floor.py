"""The least CPU an answer costs with the production code path: one answer at a time, no Lambda runtime.

    python -m bench.floor [--answers 10] [--json FILE]

Issue 12 asks for at most 40 ms of CPU per answer (localcore and the function together) on the ladder's answer
(the scripted model, 150 tokens at 100 tokens/s). The ladder measures the whole stack under load; this measures
the floor beneath it: `StreamingService` (the prompt function's code, `iotstream_lambdas.streaming`) runs in
this process with real boto3 clients against localcore in a child process (`bench.stack_process`), one answer
at a time. Left out, so not counted: the Lambda runtime and its worker process, the rule, the prompt's and the
answer's trips through the broker to a subscriber, and every cost of contention (other answers, other
processes). Rows:

- **the model alone**: the scripted model's tokens read by a bare loop; its pacing (one sleep per token) is
  part of every answer here, as a real model's stream of chunks is;
- **as published**: the default publisher, and wider coalescing (fewer messages per answer).

Columns: messages per answer, AWS calls per answer by operation (counted with botocore's `before-call` hook),
this process's CPU (the function's share: model, publisher, boto3), localcore's CPU (SigV4, iot-data, moto),
and their sum against the goal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from bench.ladder import ENVIRONMENT
from bench.stack_process import StackProcess
from iotstream_lambdas.streaming.config import service_from_env
from iotstream_lambdas.streaming.llm.base import GenerationParams, Message
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider
from localcore.functions import STATE_TABLE

GOAL_MS = 40.0
VARIANTS: dict[str, dict[str, str]] = {
    "default publisher": {},
    "coalescing 200 ms / 20 tokens": {"PUBLISH_LATENCY_BUDGET_MS": "200", "PUBLISH_MAX_BATCH_TOKENS": "20"},
}


@dataclass
class Row:
    name: str
    answers: int
    messages: float
    calls: dict[str, float] = field(default_factory=dict)
    function_ms: float = 0.0
    localcore_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.function_ms + self.localcore_ms


def model_alone(answers: int) -> Row:
    """The scripted model's stream of the ladder's answer, read and dropped."""
    provider = ScriptedProvider(
        text=ENVIRONMENT["SCRIPTED_TEXT"], tokens_per_s=float(ENVIRONMENT["SCRIPTED_TOKENS_PER_S"])
    )
    started = time.process_time()
    for _ in range(answers):
        for _chunk in provider.stream(
            [Message("user", "hi")], GenerationParams(max_tokens=1000, temperature=0.0)
        ):
            pass
    return Row("the model alone", answers, 0.0, function_ms=(time.process_time() - started) * 1000 / answers)


def counted_client(service: str, endpoints: dict[str, Any], calls: Counter[str]) -> Any:
    client = boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoints["http"],
        region_name=endpoints["region"],
        aws_access_key_id=endpoints["admin_access_key_id"],
        aws_secret_access_key=endpoints["admin_secret_access_key"],
    )

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call", count)
    return client


def answered(stack: StackProcess, name: str, variant: dict[str, str], answers: int) -> Row:
    """`answers` prompts through the production service, one at a time, after one to warm up."""
    calls: Counter[str] = Counter()
    iot = counted_client("iot-data", stack.endpoints, calls)
    dynamodb = counted_client("dynamodb", stack.endpoints, calls)
    quiet = Logger(service="bench-floor", level="WARNING")  # the function's INFO lines would fill the output
    service = service_from_env(
        {**ENVIRONMENT, "STATE_TABLE": STATE_TABLE, **variant}, logger=quiet, iot=iot, dynamodb=dynamodb
    )
    region = stack.endpoints["region"]

    def ask() -> int:
        event = {"v": 1, "rid": str(uuid.uuid4()), "text": "hi", "identity_id": f"{region}:{uuid.uuid4()}"}
        outcome = service.handle_prompt(event, lambda: 60_000)
        if outcome.outcome != "end_turn":
            sys.exit(f"error: an answer ended {outcome.outcome!r}, not 'end_turn'")
        return int(outcome.metrics.get("messages", 0))

    ask()
    calls.clear()
    before, cpu = stack.usage(), time.process_time()
    messages = sum(ask() for _ in range(answers))
    function_ms = (time.process_time() - cpu) * 1000 / answers
    localcore_s, _workers = stack.usage().cpu_since(before)
    return Row(
        name,
        answers,
        messages / answers,
        {operation: n / answers for operation, n in sorted(calls.items())},
        function_ms,
        localcore_s * 1000 / answers,
    )


def table(rows: list[Row]) -> str:
    lines = [
        f"The ladder's answer ({ENVIRONMENT['SCRIPTED_TOKENS_PER_S']} tokens/s), one at a time; goal: "
        f"{GOAL_MS:.0f} ms of CPU per answer.",
        "",
        "| answer | answers | messages/answer | AWS calls per answer | function CPU ms | localcore CPU ms "
        "| total ms | of the goal |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        calls = ", ".join(f"{operation} {n:.1f}" for operation, n in row.calls.items()) or "none"
        lines.append(
            f"| {row.name} | {row.answers} | {row.messages:.1f} | {calls} | {row.function_ms:.1f} | "
            f"{row.localcore_ms:.1f} | {row.total_ms:.1f} | {row.total_ms / GOAL_MS:.0%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--answers", type=int, default=10, help="answers per row (1 to 50)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    answers = max(1, min(args.answers, 50))
    rows = [model_alone(answers)]
    with StackProcess(ENVIRONMENT) as stack:
        rows += [answered(stack, name, variant, answers) for name, variant in VARIANTS.items()]
    print(table(rows))
    if args.json is not None:
        args.json.write_text(
            json.dumps({"goal_ms": GOAL_MS, "rows": [asdict(row) for row in rows]}, indent=2)
        )


if __name__ == "__main__":
    main()
