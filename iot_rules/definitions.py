"""Topic-rule definitions as data: one JSON file per rule in this folder, shared by CDK and localcore.

A definition names Lambda functions by their logical name in `lambdas/iotstream_lambdas/functions.json` ("prompt"); CDK and
localcore each turn a definition into an AWS `TopicRulePayload` with `to_topic_rule_payload`, given a
resolver from logical name to function ARN.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iot_rules.action_params import check_params

RULE_NAME = re.compile(r"[a-zA-Z0-9_]{1,128}")
SQL_VERSIONS = ("2015-10-08", "2016-03-23", "beta")
DEFAULT_SQL_VERSION = "2015-10-08"  # AWS's default when awsIotSqlVersion is omitted
MAX_ACTIONS = 10
SUPPORTED_ACTIONS = (
    "lambda",
    "republish",
    "cloudwatchLogs",
    "cloudwatchMetric",
    "dynamoDB",
    "dynamoDBv2",
    "firehose",
    "http",
    "kinesis",
    "s3",
    "sns",
    "sqs",
)
"""The action types localcore runs; any other is refused, named. Each is checked against its API shape
(`action_params.py`)."""
ROLE_MADE_BY_CDK = ("republish", "cloudwatchLogs")
"""Actions whose `roleArn` a definition may omit: the CDK stack creates the role they need (cdk/parts/rules.py)."""


class RuleDefinitionError(ValueError):
    """A rule definition is malformed; `place` says where."""

    def __init__(self, source: str, place: str, message: str) -> None:
        super().__init__(f"{source}: {place}: {message}")
        self.source = source
        self.place = place


@dataclass(frozen=True)
class RuleDefinition:
    """One topic rule, as written in `iot_rules/*.json`."""

    name: str
    sql: str
    sql_version: str
    description: str
    disabled: bool
    actions: tuple[Mapping[str, Any], ...]
    error_action: Mapping[str, Any] | None

    def to_topic_rule_payload(self, function_arn: Callable[[str], str]) -> dict[str, Any]:
        """The AWS `TopicRulePayload` (CreateTopicRule / CloudFormation), Lambda names resolved to ARNs."""
        payload: dict[str, Any] = {
            "sql": self.sql,
            "awsIotSqlVersion": self.sql_version,
            "description": self.description,
            "ruleDisabled": self.disabled,
            "actions": [_resolve_action(action, function_arn) for action in self.actions],
        }
        if self.error_action is not None:
            payload["errorAction"] = _resolve_action(self.error_action, function_arn)
        return payload

    def lambda_functions(self) -> list[str]:
        """Logical names of the Lambda functions this rule invokes."""
        every = [*self.actions, *([self.error_action] if self.error_action else [])]
        return [action["lambda"]["function"] for action in every if "lambda" in action]


def _resolve_action(action: Mapping[str, Any], function_arn: Callable[[str], str]) -> dict[str, Any]:
    if "lambda" in action:
        return {"lambda": {"functionArn": function_arn(action["lambda"]["function"])}}
    return {kind: dict(params) for kind, params in action.items()}


def _check_action(source: str, place: str, action: Any, lambda_field: str = "function") -> Mapping[str, Any]:
    if not isinstance(action, dict) or len(action) != 1:
        raise RuleDefinitionError(source, place, "an action is an object with exactly one action type")
    kind, params = next(iter(action.items()))
    if kind not in SUPPORTED_ACTIONS:
        raise RuleDefinitionError(
            source, place, f"unsupported action {kind!r}; use one of {SUPPORTED_ACTIONS}"
        )
    if not isinstance(params, dict):
        raise RuleDefinitionError(source, f"{place}.{kind}", "action parameters must be an object")
    if kind == "lambda":
        if not isinstance(params.get(lambda_field), str) or not params[lambda_field]:
            raise RuleDefinitionError(
                source, f"{place}.lambda.{lambda_field}", "required, a non-empty string"
            )
        return action

    def refuse(where: str, message: str) -> RuleDefinitionError:
        return RuleDefinitionError(source, where, message)

    check_params(kind, params, place, refuse, optional=("roleArn",) if kind in ROLE_MADE_BY_CDK else ())
    if kind == "http":
        _check_http_urls(params, f"{place}.http", refuse)
    if kind == "cloudwatchLogs" and params.get("batchMode", False) is not False:
        raise RuleDefinitionError(source, f"{place}.cloudwatchLogs.batchMode", "only false is supported")
    if kind == "http" and (params.get("enableBatching", False) is not False or "batchConfig" in params):
        raise RuleDefinitionError(
            source, f"{place}.http.enableBatching", "batching is not emulated by localcore"
        )
    return action


def _check_http_urls(params: Mapping[str, Any], place: str, refuse: Callable[[str, str], Exception]) -> None:
    """https-rule-action.html: a `url` with substitution templates needs a `confirmationUrl`; a hardcoded
    `confirmationUrl` must begin the `url` (a templated one is checked when the action runs)."""
    url, confirmation = str(params["url"]), params.get("confirmationUrl")
    if "${" in url and not confirmation:
        raise refuse(f"{place}.confirmationUrl", "required when the url has substitution templates")
    if confirmation and "${" not in confirmation and not url.startswith(confirmation):
        raise refuse(f"{place}.url", f"must begin with the confirmationUrl {confirmation!r}")


def parse_rule(
    document: Mapping[str, Any], source: str = "<rule>", lambda_field: str = "function"
) -> RuleDefinition:
    """Validate one rule definition (AWS's naming, version and action-count rules).

    Definitions name Lambda functions (`function`); AWS's TopicRulePayload uses `functionArn`.
    """
    name = document.get("ruleName")
    if not isinstance(name, str) or not RULE_NAME.fullmatch(name):
        raise RuleDefinitionError(source, "ruleName", "must match ^[a-zA-Z0-9_]+$ and be 1-128 characters")
    sql = document.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise RuleDefinitionError(source, "sql", "required, a non-empty string")
    version = document.get("awsIotSqlVersion", DEFAULT_SQL_VERSION)
    if version not in SQL_VERSIONS:
        raise RuleDefinitionError(source, "awsIotSqlVersion", f"must be one of {SQL_VERSIONS}")
    actions = document.get("actions", [])
    if not isinstance(actions, list) or len(actions) > MAX_ACTIONS:
        raise RuleDefinitionError(source, "actions", f"a list of at most {MAX_ACTIONS} actions")
    checked = tuple(_check_action(source, f"actions[{i}]", a, lambda_field) for i, a in enumerate(actions))
    error_action = document.get("errorAction")
    if error_action is not None:
        error_action = _check_action(source, "errorAction", error_action, lambda_field)
    return RuleDefinition(
        name=name,
        sql=sql,
        sql_version=version,
        description=str(document.get("description", "")),
        disabled=bool(document.get("ruleDisabled", False)),
        actions=checked,
        error_action=error_action,
    )


def rules_dir() -> Path:
    """The folder holding the project's rule definitions."""
    return Path(__file__).resolve().parent


def read_rule_file(path: Path) -> Any:
    """The decoded JSON of one rule file; RuleDefinitionError (naming the file) when it is not UTF-8 JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise RuleDefinitionError(
            str(path),
            "(file)",
            f"not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start})",
        ) from None
    except json.JSONDecodeError as error:
        raise RuleDefinitionError(
            str(path), "(file)", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise RuleDefinitionError(str(path), "(file)", "not valid JSON: nested too deeply") from None


def load_rules(folder: Path | None = None) -> list[RuleDefinition]:
    """Every `*.json` rule definition in `folder` (default: the project's), sorted by name."""
    folder = folder or rules_dir()
    rules = [parse_rule(read_rule_file(path), str(path)) for path in sorted(folder.glob("*.json"))]
    names = [rule.name for rule in rules]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise RuleDefinitionError(str(folder), "ruleName", f"duplicate rule names {sorted(duplicates)}")
    return sorted(rules, key=lambda rule: rule.name)
