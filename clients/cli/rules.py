"""`iotstream rules`: run topic rules on a message without a broker, list them, validate them.

    iotstream rules test --rule iotstream_prompt --topic chat/ID/prompt --payload prompt.json
    iotstream rules test --topic '$aws/rules/ingest/x/y' --payload - --client-id dev-1 \\
        --mqtt5-property contentType=application/json --mqtt5-property tenant=acme
    iotstream rules list [--project DIR | --rules-dir DIR]
    iotstream rules validate [--project DIR | --rules-dir DIR] [FILE ...]

`test` runs the real rules engine (SQL, substitution templates, actions, errorAction) with recording actions
instead of Lambda, the broker and the AWS services, and prints what each action would receive: the function
and its event; the republish topic, QoS, MQTT 5 headers and the exact payload bytes; for the AWS-service
actions the API call made as the action's role with every parameter (the SQS message body, the DynamoDB
item, the S3 key and body, ...); the `http` action's URL, headers and body. `--mqtt5-property` names contentType,
responseTopic, correlationData, payloadFormatIndicator (0/1); any other key is a user property. Without
`--client-id`, `clientid()` is "n/a" as for an HTTP publish. A Lambda action naming a function the project's
functions manifest (or `--functions functions.json`) lacks fails the way a missing function does in AWS (and
the errorAction runs). The project is found as `iotstream up` finds it: `--project DIR`, else the nearest
folder from here upwards with `[tool.iotstream]` in its pyproject.toml or an `iot_rules/` folder.

Exit status: 0 at least one action would run, 1 nothing runs, 2 bad input (the error names its place).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from iot_rules.definitions import (
    RuleDefinition,
    RuleDefinitionError,
    load_rules,
)
from localcore.broker.message import Message, Publisher, PublishProperties
from localcore.errors import LocalcoreError
from localcore.iot.exceptions import IotError
from localcore.iot.topic_rules import RuleStore
from localcore.project import Project, ProjectError, check_rule_file, find_project
from localcore.rules.engine import Rule, RuleRun, RulesEngine
from localcore.rules.service_calls import HttpAnswer, HttpDelivery, ServiceCall

EXIT_RUNS = 0
EXIT_NOTHING_RUNS = 1
EXIT_BAD_INPUT = 2
REGION, ACCOUNT = "us-east-1", "000000000000"
PROPERTY_NAMES = {"contentType", "responseTopic", "correlationData", "payloadFormatIndicator"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__
    sub = parser.add_subparsers(dest="rules_command", metavar="{test,list,validate}")
    test = sub.add_parser("test", help="what the rule's actions would receive for one message")
    test.add_argument("--rule", help="only this rule (default: every enabled rule whose FROM matches)")
    test.add_argument("--topic", required=True, help="the topic the message is published to")
    test.add_argument("--payload", required=True, type=Path, help="file with the payload bytes ('-': stdin)")
    test.add_argument("--client-id", help="the publisher's MQTT client id (default: none, clientid() = n/a)")
    test.add_argument(
        "--mqtt5-property", action="append", default=[], metavar="KEY=VALUE", help="repeatable; see below"
    )
    test.add_argument(
        "--functions",
        type=Path,
        help="functions.json: Lambda actions must name one of these (default: the project's)",
    )
    listing = sub.add_parser("list", help="the rules, their FROM topics and actions")
    validate = sub.add_parser("validate", help="check rule definitions: fields, actions, SQL and templates")
    for command in (test, listing, validate):
        command.add_argument(
            "--project",
            type=Path,
            metavar="DIR",
            help="the project (default: the one in this folder or above)",
        )
        command.add_argument(
            "--rules-dir", type=Path, default=None, help="default: the project's rules folder"
        )
    validate.add_argument(
        "files", nargs="*", type=Path, help="rule files (default: every *.json of the folder)"
    )


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "rules_command", None)
    try:
        if command == "test":
            return _test(args)
        if command == "list":
            return _list(_rules_folder(args))
        if command == "validate":
            return _validate(args.files or sorted(_rules_folder(args).glob("*.json")))
    except BrokenPipeError:
        raise  # the reader went away: the command line's boundary ends quietly
    except (RuleDefinitionError, IotError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print("usage: iotstream rules {test,list,validate} ... (see --help)", file=sys.stderr)
    return EXIT_BAD_INPUT


def _project(args: argparse.Namespace) -> Project:
    """The project of --project, else the one in this folder or above (as `iotstream up` finds it)."""
    project = find_project(args.project)
    if project is None:
        raise ProjectError(
            f"no project in {Path.cwd()} or above (no pyproject.toml with [tool.iotstream], no iot_rules/): "
            "run this in your project, or give --project DIR or --rules-dir DIR"
        )
    return project


def _rules_folder(args: argparse.Namespace) -> Path:
    if args.rules_dir is not None:
        if not args.rules_dir.is_dir():
            raise ProjectError(f"--rules-dir {args.rules_dir}: no such folder")
        return Path(args.rules_dir)
    return _project(args).rules_dir


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def _store(definitions: list[RuleDefinition]) -> RuleStore:
    store: RuleStore = RuleStore(REGION, ACCOUNT)
    for definition in definitions:
        store.create(definition.name, definition.to_topic_rule_payload(function_arn))
    return store


# ---------------------------------------------------------------------------------------------- test


@dataclass
class Delivery:
    """What one action would have received."""

    kind: str
    target: str
    body: bytes
    details: str = ""
    failed: str | None = None  # the error message when the action failed
    lines: tuple[str, ...] = ()  # further lines to show (an API call's parameters)


class MissingFunction(LocalcoreError):
    """The Lambda action names a function that is not in the given functions.json."""


class RecordingInvoker:
    """Stands in for Lambda's asynchronous invoke: records the event."""

    def __init__(self, deliveries: list[Delivery], known: set[str] | None) -> None:
        self.deliveries = deliveries
        self.known = known

    async def invoke_async(self, function_name: str, event: Any, source: str = "") -> str:
        if self.known is not None and function_name not in self.known:
            raise MissingFunction(f"Function not found: {function_arn(function_name)}")
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        target = f"function {function_name}"
        self.deliveries.append(
            Delivery("lambda", target, body, f"{function_arn(function_name)}, async invoke")
        )
        return f"recorded-{len(self.deliveries)}"


class RecordingPublisher:
    """Stands in for the broker: records republished messages."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        self.deliveries = deliveries

    async def publish(self, message: Message) -> None:
        details = f"qos {message.qos}"
        headers = _headers(message.properties)
        if headers:
            details += ", MQTT 5 headers " + json.dumps(headers, ensure_ascii=False)
        self.deliveries.append(Delivery("republish", f"topic {message.topic}", message.payload, details))


class RecordingLogSink:
    """Stands in for CloudWatch Logs: records the log events of cloudwatchLogs actions."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        self.deliveries = deliveries

    def put(self, log_group: str, message: str) -> None:
        self.deliveries.append(
            Delivery("cloudwatchLogs", f"log group {log_group}", message.encode(), "one log event")
        )


class RecordingServices:
    """Stands in for the AWS services and HTTP endpoints: records each call and answers success."""

    def __init__(self, deliveries: list[Delivery]) -> None:
        self.deliveries = deliveries

    async def call(self, call: ServiceCall, rule: str) -> Mapping[str, Any]:
        lines = tuple(f"{name}: {_parameter(value)}" for name, value in call.params.items())
        target = f"{call.service} {call.operation}"
        self.deliveries.append(Delivery(target, "", b"", f"as {call.role_arn}", lines=lines))
        return {"FailedPutCount": 0} if call.operation == "PutRecordBatch" else {}

    async def post(self, delivery: HttpDelivery, rule: str) -> HttpAnswer:
        headers = [f"{key}: {value}" for key, value in delivery.headers]
        signing = f", SigV4 as {delivery.sigv4['roleArn']}" if delivery.sigv4 else ""
        lines = (*headers, f"body: {_show(delivery.body)}")
        self.deliveries.append(
            Delivery("http POST", delivery.url, b"", f"headers below{signing}", lines=lines)
        )
        return HttpAnswer(200)


def _parameter(value: Any) -> str:
    """One API parameter as text: bytes as `_show` shows them, structures as JSON."""
    if isinstance(value, bytes):
        return _show(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return _show(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def recording_engine(store: RuleStore, deliveries: list[Delivery], known: set[str] | None) -> RulesEngine:
    """The real engine over recording invoker, publisher, log sink and services; a failed action is noted too,
    in order among the deliveries."""
    engine = RulesEngine(
        store,
        RecordingInvoker(deliveries, known),
        RecordingPublisher(deliveries),
        ACCOUNT,
        log_sink=RecordingLogSink(deliveries),
        services=RecordingServices(deliveries),
    )
    engine.failure_observers.append(
        lambda failure: deliveries.append(
            Delivery(failure.kind, failure.resource, b"", failed=failure.message)
        )
    )
    return engine


def _headers(props: PublishProperties) -> dict[str, Any]:
    headers: dict[str, Any] = {
        "payloadFormatIndicator": props.payload_format_indicator,
        "contentType": props.content_type,
        "responseTopic": props.response_topic,
        "correlationData": None
        if props.correlation_data is None
        else base64.b64encode(props.correlation_data).decode(),
        "messageExpiry": props.message_expiry_interval,
        "userProperties": [list(pair) for pair in props.user_properties] or None,
    }
    return {key: value for key, value in headers.items() if value is not None}


def message_properties(pairs: list[str]) -> PublishProperties:
    """`KEY=VALUE` options -> MQTT 5 properties (unknown keys are user properties)."""
    values: dict[str, str] = {}
    user: list[tuple[str, str]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--mqtt5-property {pair!r}: expected KEY=VALUE")
        if key in PROPERTY_NAMES:
            values[key] = value
        else:
            user.append((key, value))
    indicator = values.get("payloadFormatIndicator")
    if indicator not in (None, "0", "1"):
        raise ValueError("--mqtt5-property payloadFormatIndicator must be 0 or 1")
    correlation = values.get("correlationData")
    return PublishProperties(
        payload_format_indicator=None if indicator is None else int(indicator),
        content_type=values.get("contentType"),
        response_topic=values.get("responseTopic"),
        correlation_data=None if correlation is None else correlation.encode(),
        user_properties=tuple(user),
    )


def _read_payload(path: Path) -> bytes:
    return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()


def _known_functions(path: Path | None) -> set[str] | None:
    """The function names of a manifest (only the names matter here: the project's manifest is checked
    whole when the stack starts)."""
    if path is None:
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{path}: not a UTF-8 JSON functions manifest: {error}") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: the functions manifest must be a JSON object")
    return set(manifest)


def _show(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return f"(binary, {len(body)} bytes, base64) {base64.b64encode(body).decode()}"


def _print_delivery(label: str, delivery: Delivery) -> None:
    if delivery.failed is not None:
        print(f"  {label}: {delivery.kind} -> {delivery.target} FAILED: {delivery.failed}")
        return
    target = f" -> {delivery.target}" if delivery.target else ""
    print(f"  {label}: {delivery.kind}{target} ({delivery.details})")
    if delivery.lines:
        for line in delivery.lines:
            print(f"    {line}")
    else:
        print(f"    payload: {_show(delivery.body)}")


def _print_run(run: RuleRun, deliveries: list[Delivery], rule: Rule) -> None:
    print(f"rule {run.rule}: {rule.payload['sql']}")
    print(f"  topic seen by the SQL: {run.topic}")
    if not run.matched:
        print("  WHERE not satisfied: no action runs")
        return
    error_action = bool(run.failures) and "errorAction" in rule.payload
    actions = deliveries[:-1] if error_action else deliveries
    for index, delivery in enumerate(actions, start=1):
        _print_delivery(f"action {index}", delivery)
    if error_action:
        _print_delivery("errorAction", deliveries[-1])


async def _run_each_rule(engine: RulesEngine, message: Message, deliveries: list[Delivery]) -> list[RuleRun]:
    rules, topic = engine.rules_for(message)
    runs = []
    for rule in rules:
        start = len(deliveries)
        [run] = await engine.run_rules([rule], message, topic)
        _print_run(run, deliveries[start:], rule)
        runs.append(run)
    return runs


def _test(args: argparse.Namespace) -> int:
    folder = _rules_folder(args)
    definitions = load_rules(folder)
    if args.rule is not None:
        definitions = [d for d in definitions if d.name == args.rule]
        if not definitions:
            raise ValueError(f"no rule named {args.rule!r} in {folder}")
        definitions = [_enabled(d) for d in definitions]  # test the named rule even if it ships disabled
    store = _store(definitions)
    deliveries: list[Delivery] = []
    functions = args.functions
    if functions is None and args.rules_dir is None:
        functions = _project(args).functions
    engine = recording_engine(store, deliveries, _known_functions(functions))
    message = Message(
        topic=args.topic,
        payload=_read_payload(args.payload),
        properties=message_properties(args.mqtt5_property),
        publisher=Publisher(client_id=args.client_id, trace_id="00000000-0000-0000-0000-000000000000"),
    )
    logging.getLogger("localcore.rules").setLevel(logging.ERROR)  # failures are printed below instead
    runs = asyncio.run(_run_each_rule(engine, message, deliveries))
    if not runs:
        which = f"rule {args.rule}" if args.rule else "no enabled rule"
        print(f"{which}: FROM does not match topic {args.topic}: no action runs")
        return EXIT_NOTHING_RUNS
    return EXIT_RUNS if any(d.failed is None for d in deliveries) else EXIT_NOTHING_RUNS


def _enabled(definition: RuleDefinition) -> RuleDefinition:
    return dataclasses.replace(definition, disabled=False)


# ---------------------------------------------------------------------------------------------- list


TARGET_PARAMETER = {
    "lambda": "function",
    "republish": "topic",
    "cloudwatchLogs": "logGroupName",
    "cloudwatchMetric": "metricName",
    "dynamoDB": "tableName",
    "firehose": "deliveryStreamName",
    "http": "url",
    "kinesis": "streamName",
    "s3": "bucketName",
    "sns": "targetArn",
    "sqs": "queueUrl",
}


def _describe_action(action: dict[str, Any]) -> str:
    kind, params = next(iter(action.items()))
    if kind == "dynamoDBv2":
        return f"dynamoDBv2:{params['putItem']['tableName']}"
    return f"{kind}:{params[TARGET_PARAMETER[kind]]}"


def _list(folder: Path) -> int:
    definitions = load_rules(folder)
    store = _store(definitions)
    print(f"{'rule':<28}{'state':<10}{'FROM':<28}actions")
    for definition in definitions:
        pattern = store.get(definition.name).topic_pattern
        actions = ", ".join(_describe_action(dict(a)) for a in definition.actions)
        if definition.error_action:
            actions += f"; errorAction {_describe_action(dict(definition.error_action))}"
        state = "disabled" if definition.disabled else "enabled"
        print(f"{definition.name:<28}{state:<10}{pattern or '(Basic Ingest only)':<28}{actions}")
    return EXIT_RUNS


# ---------------------------------------------------------------------------------------------- validate


def _validate(paths: list[Path]) -> int:
    """Each file as CreateTopicRule checks it (localcore.project.check_rule_file); names unique."""
    failed = 0
    names: dict[str, Path] = {}
    for path in paths:
        try:
            definition = check_rule_file(path)
            if definition.name in names:
                raise ProjectError(
                    f"{path}: ruleName {definition.name!r} is also used by {names[definition.name]}"
                )
            names[definition.name] = path
        except ProjectError as error:
            failed += 1
            print(f"INVALID {error}")
        else:
            print(f"ok      {path} ({definition.name})")
    print(f"{len(paths) - failed} valid, {failed} invalid")
    return EXIT_BAD_INPUT if failed or not paths else EXIT_RUNS
