"""Topic rules as the IoT control plane stores them: CRUD with AWS's validation and shapes.

A rule is compiled at creation — its SQL and every substitution template in its actions — so a rule that
does not parse is refused there (`SqlParseException` / `InvalidRequestException`), as in AWS, and the
engine only ever sees rules that compile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from iot_rules.definitions import RuleDefinitionError, parse_rule
from localcore.iot.exceptions import InvalidRequestException, SqlParseException, already_exists, not_found
from localcore.rules.sql import CompiledQuery, SqlParseError, compile_sql
from localcore.rules.sql.templates import compile_template


@dataclass(frozen=True)
class StoredRule:
    """One topic rule with its compiled query."""

    name: str
    arn: str
    payload: Mapping[str, Any]  # the TopicRulePayload as given (sql, actions, errorAction, ...)
    query: CompiledQuery
    created_at: datetime

    @property
    def disabled(self) -> bool:
        return bool(self.payload.get("ruleDisabled", False))

    @property
    def sql_version(self) -> str:
        return self.query.version

    @property
    def topic_pattern(self) -> str:
        """ListTopicRules' `topicPattern` (empty for a Basic-Ingest-only rule without FROM)."""
        return self.query.topic_filter or ""

    def as_topic_rule(self) -> dict[str, Any]:
        """GetTopicRule's `rule` member."""
        rule = {"ruleName": self.name, "createdAt": self.created_at.timestamp(), **self.payload}
        rule["awsIotSqlVersion"] = self.sql_version
        rule.setdefault("ruleDisabled", False)
        return rule


def compile_rule_sql(sql: str, version: str | None) -> CompiledQuery:
    """Compile a rule's SQL; a parse error is the control plane's `SqlParseException` (HTTP 400)."""
    try:
        return compile_sql(sql, version)
    except SqlParseError as error:
        raise SqlParseException(str(error)) from error


def _templates(action: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(place, template) for every string parameter of an action: all may hold `${...}` templates."""
    for kind, params in action.items():
        for key, value in params.items():
            if isinstance(value, str):
                yield f"{kind}.{key}", value
            elif key == "headers" and isinstance(value, Mapping):
                for header, text in value.items():
                    if isinstance(text, str):
                        yield f"{kind}.headers.{header}", text
                for index, pair in enumerate(value.get("userProperties", [])):
                    for part in ("key", "value"):
                        yield f"{kind}.headers.userProperties[{index}].{part}", str(pair.get(part, ""))


def _check_templates(payload: Mapping[str, Any], version: str) -> None:
    actions = [*payload.get("actions", []), *([payload["errorAction"]] if payload.get("errorAction") else [])]
    for action in actions:
        for place, template in _templates(action):
            try:
                compile_template(template, version)
            except SqlParseError as error:
                raise InvalidRequestException(f"bad substitution template in {place}: {error}") from error


class RuleStore:
    """All topic rules of the account; thread-safe. `enabled()` is cached for the engine's hot path."""

    def __init__(self, region: str = "us-east-1", account: str = "000000000000") -> None:
        self.region = region
        self.account = account
        self._lock = threading.RLock()
        self._rules: dict[str, StoredRule] = {}
        self._enabled: tuple[StoredRule, ...] = ()

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:iot:{self.region}:{self.account}:rule/{name}"

    def _validated(self, name: str, payload: Mapping[str, Any]) -> tuple[dict[str, Any], CompiledQuery]:
        try:
            parse_rule({"ruleName": name, **payload}, source=f"rule {name}", lambda_field="functionArn")
        except RuleDefinitionError as error:
            raise InvalidRequestException(str(error)) from error
        query = compile_rule_sql(str(payload["sql"]), payload.get("awsIotSqlVersion"))
        _check_templates(payload, query.version)
        return dict(payload), query

    def _put(self, rule: StoredRule) -> StoredRule:
        self._rules[rule.name] = rule
        self._changed()
        return rule

    def _changed(self) -> None:
        self._enabled = tuple(rule for rule in self.all() if not rule.disabled)

    def create(self, name: str, payload: Mapping[str, Any]) -> StoredRule:
        """CreateTopicRule."""
        clean, query = self._validated(name, payload)
        with self._lock:
            if name in self._rules:
                raise already_exists(f"Rule {name}")
            return self._put(StoredRule(name, self.rule_arn(name), clean, query, datetime.now(UTC)))

    def replace(self, name: str, payload: Mapping[str, Any]) -> StoredRule:
        """ReplaceTopicRule: a new payload, same name and creation time."""
        clean, query = self._validated(name, payload)
        with self._lock:
            return self._put(replace(self.get(name), payload=clean, query=query))

    def set_disabled(self, name: str, disabled: bool) -> None:
        """EnableTopicRule / DisableTopicRule."""
        with self._lock:
            old = self.get(name)
            self._put(replace(old, payload={**old.payload, "ruleDisabled": disabled}))

    def delete(self, name: str) -> None:
        with self._lock:
            self.get(name)
            del self._rules[name]
            self._changed()

    def get(self, name: str) -> StoredRule:
        with self._lock:
            rule = self._rules.get(name)
            if rule is None:
                raise not_found(f"Rule {name}")
            return rule

    def find(self, name: str) -> StoredRule | None:
        with self._lock:
            return self._rules.get(name)

    def all(self) -> list[StoredRule]:
        with self._lock:
            return sorted(self._rules.values(), key=lambda rule: rule.name)

    def enabled(self) -> tuple[StoredRule, ...]:
        """The enabled rules, by name (an immutable snapshot, rebuilt on every change)."""
        return self._enabled

    def list_items(self, topic: str | None = None, disabled: bool | None = None) -> list[dict[str, Any]]:
        """ListTopicRules items, optionally filtered by topic pattern and state."""
        return [
            {
                "ruleArn": rule.arn,
                "ruleName": rule.name,
                "topicPattern": rule.topic_pattern,
                "createdAt": rule.created_at.timestamp(),
                "ruleDisabled": rule.disabled,
            }
            for rule in self.all()
            if (topic is None or rule.topic_pattern == topic)
            and (disabled is None or rule.disabled == disabled)
        ]
