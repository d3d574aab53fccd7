"""docs/coverage.md: every IoT, iot-data and Cognito operation, and whether localcore emulates it.

The operation lists are botocore's service models (AWS's API definitions); "emulated" is read from what a
running localcore's gateway routes (REST routes matched to their operation, JSON operations registered), so
the table follows the code as operations are added. Regenerate with `python -m localcore.coverage >
docs/coverage.md`; `tests/functional/stack/test_coverage.py` fails while the file is out of date.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from localcore.http.gateway import Gateway
from localcore.http.operations import (
    NOT_EMULATED_CODE,
    NOT_EMULATED_STATUS,
    match_rest,
    operation_names,
    service_model,
)
from localcore.testing import RunningLocalcore, free_port_config

SERVICES = ("iot", "iot-data", "cognito-idp", "cognito-identity")
MOTO_SERVICES = "DynamoDB, SQS, SNS, S3, Kinesis, Firehose, CloudWatch and IAM"
_ROUTE_LABEL = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class Coverage:
    service: str
    emulated: frozenset[str]

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(sorted(operation_names(self.service)))


def served(gateway: Gateway, service: str) -> frozenset[str]:
    """The operations of `service` the gateway serves: its JSON operations, or the operation each of its
    REST routes is (the route's path with a sample value in each label)."""
    found = set(gateway.json_operations(service))
    for method, path in gateway.routes(service):
        match = match_rest(service, method, _ROUTE_LABEL.sub("sample", path), {})
        if match is not None:
            found.add(match.operation)
    return frozenset(found)


def coverage(gateway: Gateway) -> list[Coverage]:
    return [Coverage(service, served(gateway, service)) for service in SERVICES]


def markdown(gateway: Gateway) -> str:
    tables = coverage(gateway)
    lines = [
        "# What localcore emulates",
        "",
        "Every operation of the AWS IoT, IoT data plane and Cognito APIs, from botocore's service models (AWS's own",
        "API definitions), and whether localcore serves it. Generated from the routes a running localcore serves:",
        "`python -m localcore.coverage > docs/coverage.md`; `tests/functional/stack/test_coverage.py` fails when",
        "this file is out of date.",
        "",
        "## An operation that is not emulated",
        "",
        f"It answers HTTP {NOT_EMULATED_STATUS} with the error code `{NOT_EMULATED_CODE}` and a message naming it, e.g.",
        "`localcore does not emulate the IoT operation ListJobs (docs/coverage.md lists what it does)`; boto3 raises",
        f'`ClientError` with `Error.Code == "{NOT_EMULATED_CODE}"`. Why this answer:',
        "",
        "- it is not an error the operation can really return, so code written for AWS never mistakes it for a state",
        '  of the account (a `ResourceNotFoundException` or a bare 404 reads as "that thing does not exist" and',
        "  sends code down its create-it path);",
        '- 501 Not Implemented is HTTP\'s status for "the server does not support the functionality required", and',
        "  AWS SDKs do not retry it (they retry 500, 502, 503 and 504), so the failure is immediate;",
        "- `NotImplemented` is the code AWS itself uses with 501 (Amazon S3,",
        "  https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).",
        "",
        "A request that matches no operation of these APIs at all keeps the usual answers (`UnknownOperationException`",
        "for an unknown `X-Amz-Target`, 404 for an unknown path).",
        "",
        "The AWS data services rule actions write to",
        f"({MOTO_SERVICES}) are moto's implementations behind localcore's SigV4 and IAM check: what each",
        "supports is moto's coverage, https://docs.getmoto.org/en/latest/docs/services/index.html.",
        "",
        "## Summary",
        "",
        "| API | boto3 client | operations | emulated |",
        "| --- | --- | ---: | ---: |",
    ]
    for table in tables:
        label = service_model(table.service).service_id
        lines.append(f"| {label} | `{table.service}` | {len(table.operations)} | {len(table.emulated)} |")
    for table in tables:
        label = service_model(table.service).service_id
        lines += ["", f"## {label} (`{table.service}`)", "", "| operation | emulated |", "| --- | --- |"]
        lines += [f"| {op} | {'yes' if op in table.emulated else 'no'} |" for op in table.operations]
    return "\n".join(lines) + "\n"


def main() -> int:
    with RunningLocalcore(free_port_config(ws_port=None)) as running:
        sys.stdout.write(markdown(running.core.gateway))
    return 0


if __name__ == "__main__":
    sys.exit(main())
