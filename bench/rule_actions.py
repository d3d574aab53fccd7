"""Rule actions that write to AWS services: what a rule adds to the write itself.

Run: python -m bench.rule_actions [--messages 200] [--plot docs/images/rule_actions.png]

The whole local stack runs in this process (`RunningLocalcore`). For each action type a rule `SELECT * FROM
'<topic>'` writes every message with that action, as its role. A row's latency is from handing one message
to the broker (`Broker.publish`, as iot-data does) until the rules engine has finished with it (the write
done): the broker, the SQL, the role (IAM read once, then cached), boto3 signing, localcore's SigV4 and IAM
check, and moto. The reference, in the same process, is the same write made directly with boto3 as the local
admin (signing, the SigV4 and IAM check and moto, nothing else): the difference is the rules engine's share.
Messages are sequential. No assertions.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clients.local_app import local_config
from localcore.broker.message import Message, Publisher
from localcore.testing import RunningLocalcore

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
PAYLOAD = {"device": "d1", "seq": 0, "temperature": 21.5, "humidity": 40}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _timed(count: int, step: Callable[[int], None]) -> list[float]:
    step(-1)  # warm: clients, the role, moto's first request
    out = []
    for n in range(count):
        start = time.perf_counter()
        step(n)
        out.append((time.perf_counter() - start) * 1000)
    return out


class Bench:
    def __init__(self, stack: RunningLocalcore) -> None:
        self.stack = stack
        iam = stack.client("iam")
        name = f"bench-rules-{uuid.uuid4().hex[:8]}"
        self.role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        allow_all = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=json.dumps(allow_all))

    def via_rule(self, kind: str, params: dict[str, Any]) -> Callable[[int], None]:
        topic = f"bench/{kind}/{uuid.uuid4().hex[:8]}"
        rule = {"sql": f"SELECT * FROM '{topic}'", "actions": [{kind: {**params, "roleArn": self.role}}]}
        self.stack.client("iot").create_topic_rule(
            ruleName=f"bench_{uuid.uuid4().hex[:8]}", topicRulePayload=rule
        )

        def step(n: int) -> None:
            body = json.dumps({**PAYLOAD, "seq": n}).encode()
            self.stack.publish(
                Message(topic=topic, payload=body, qos=1, publisher=Publisher(client_id="bench"))
            )
            self.stack.wait_rules_idle()

        return step


def cases(bench: Bench) -> list[tuple[str, Callable[[int], None], Callable[[int], None]]]:
    """(action, its rule, the same write made directly with boto3)."""
    stack = bench.stack
    sqs, dynamodb, s3, kinesis = (stack.client(s) for s in ("sqs", "dynamodb", "s3", "kinesis"))
    queue, direct_queue = (
        sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"] for _ in "ab"
    )
    table = f"bench-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "seq", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "seq", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    stream = f"bench-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    body = json.dumps(PAYLOAD)
    return [
        (
            "sqs",
            bench.via_rule("sqs", {"queueUrl": queue}),
            lambda n: sqs.send_message(
                QueueUrl=direct_queue, MessageBody=body
            ),  # moto's send slows as a queue fills
        ),
        (
            "dynamoDBv2",
            bench.via_rule("dynamoDBv2", {"putItem": {"tableName": table}}),
            lambda n: dynamodb.put_item(TableName=table, Item={"seq": {"N": str(n)}, "t": {"N": "21.5"}}),
        ),
        (
            "s3",
            bench.via_rule("s3", {"bucketName": bucket, "key": "${seq}"}),
            lambda n: s3.put_object(Bucket=bucket, Key=f"direct-{n}", Body=body.encode()),
        ),
        (
            "kinesis",
            bench.via_rule("kinesis", {"streamName": stream, "partitionKey": "${device}"}),
            lambda n: kinesis.put_record(StreamName=stream, Data=body.encode(), PartitionKey="d1"),
        ),
    ]


def plot(rows: list[tuple[str, list[float], list[float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    labels = [row[0] for row in rows]
    positions = range(len(rows))
    axis.bar(
        [p - 0.2 for p in positions], [_percentile(r[2], 0.5) for r in rows], 0.4, label="boto3 directly"
    )
    axis.bar(
        [p + 0.2 for p in positions], [_percentile(r[1], 0.5) for r in rows], 0.4, label="through a rule"
    )
    axis.set_xticks(list(positions), labels)
    axis.set_ylabel("median ms per message")
    axis.set_title("A rule action's write vs. the same write with boto3 (same process)")
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG bar chart here")
    args = parser.parse_args()
    with RunningLocalcore(local_config()) as stack:
        bench = Bench(stack)
        rows = [
            (kind, _timed(args.messages, rule), _timed(args.messages, direct))
            for kind, rule, direct in cases(bench)
        ]
    print(
        "| action | n | boto3 directly p50 ms | p99 ms | through a rule p50 ms | p99 ms | rule / direct (p50) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, rule, direct in rows:
        ratio = _percentile(rule, 0.5) / _percentile(direct, 0.5)
        print(
            f"| {kind} | {len(rule)} | {_percentile(direct, 0.5):.2f} | {_percentile(direct, 0.99):.2f} "
            f"| {_percentile(rule, 0.5):.2f} | {_percentile(rule, 0.99):.2f} | {ratio:.2f}x |"
        )
    if args.plot is not None:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
