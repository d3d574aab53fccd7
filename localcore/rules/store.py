"""Topic rules as the IoT control plane stores them: CRUD with AWS's validation and shapes.

The SQL compiler is injected, so a rule whose SQL does not parse is refused at creation with
`SqlParseException`, as in AWS, and the engine never sees it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from iot_rules.definitions import RuleDefinitionError, parse_rule
from localcore.control_plane.errors import ControlPlaneError, already_exists, not_found
from localcore.rules.sql import CompiledQuery, SqlParseError, compile_sql

Q = TypeVar("Q")


@dataclass(frozen=True)
class StoredRule(Generic[Q]):
    """One topic rule with its compiled query."""

    name: str
    arn: str
    payload: Mapping[str, Any]  # the TopicRulePayload as given (sql, actions, errorAction, ...)
    query: Q
    created_at: datetime

    @property
    def disabled(self) -> bool:
        return bool(self.payload.get("ruleDisabled", False))

    @property
    def sql_version(self) -> str:
        return str(self.payload.get("awsIotSqlVersion") or "2015-10-08")

    def as_topic_rule(self) -> dict[str, Any]:
        """GetTopicRule's `rule` member."""
        rule = {"ruleName": self.name, "createdAt": self.created_at.timestamp(), **self.payload}
        rule.setdefault("awsIotSqlVersion", "2015-10-08")
        rule.setdefault("ruleDisabled", False)
        return rule


class RuleStore(Generic[Q]):
    """All topic rules of the account; thread-safe; `generation` bumps on every change."""

    def __init__(
        self,
        compile_sql: Callable[[str, str], Q],
        topic_pattern: Callable[[Q], str],
        region: str = "us-east-1",
        account: str = "000000000000",
    ) -> None:
        self._compile = compile_sql
        self._topic_pattern = topic_pattern
        self.region = region
        self.account = account
        self._lock = threading.RLock()
        self._rules: dict[str, StoredRule[Q]] = {}
        self.generation = 0

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:iot:{self.region}:{self.account}:rule/{name}"

    def _validated(self, name: str, payload: Mapping[str, Any]) -> tuple[dict[str, Any], Q]:
        try:
            parse_rule({"ruleName": name, **payload}, source=f"rule {name}", lambda_field="functionArn")
        except RuleDefinitionError as error:
            raise ControlPlaneError("InvalidRequestException", str(error)) from error
        version = str(payload.get("awsIotSqlVersion") or "2015-10-08")
        query = self._compile(str(payload["sql"]), version)  # raises SqlParseException-shaped errors
        return dict(payload), query

    def create(self, name: str, payload: Mapping[str, Any]) -> StoredRule[Q]:
        """CreateTopicRule."""
        clean, query = self._validated(name, payload)
        with self._lock:
            if name in self._rules:
                raise already_exists(f"Rule {name}")
            rule = StoredRule(name, self.rule_arn(name), clean, query, datetime.now(UTC))
            self._rules[name] = rule
            self.generation += 1
            return rule

    def replace(self, name: str, payload: Mapping[str, Any]) -> StoredRule[Q]:
        """ReplaceTopicRule: a new payload, same name and creation time."""
        clean, query = self._validated(name, payload)
        with self._lock:
            old = self.get(name)
            rule = replace(old, payload=clean, query=query)
            self._rules[name] = rule
            self.generation += 1
            return rule

    def set_disabled(self, name: str, disabled: bool) -> None:
        """EnableTopicRule / DisableTopicRule."""
        with self._lock:
            old = self.get(name)
            self._rules[name] = replace(old, payload={**old.payload, "ruleDisabled": disabled})
            self.generation += 1

    def delete(self, name: str) -> None:
        with self._lock:
            self.get(name)
            del self._rules[name]
            self.generation += 1

    def get(self, name: str) -> StoredRule[Q]:
        with self._lock:
            rule = self._rules.get(name)
            if rule is None:
                raise not_found(f"Rule {name}")
            return rule

    def find(self, name: str) -> StoredRule[Q] | None:
        with self._lock:
            return self._rules.get(name)

    def all(self) -> list[StoredRule[Q]]:
        with self._lock:
            return sorted(self._rules.values(), key=lambda rule: rule.name)

    def list_items(self, topic: str | None = None, disabled: bool | None = None) -> list[dict[str, Any]]:
        """ListTopicRules items, optionally filtered by topic pattern and state."""
        items = []
        for rule in self.all():
            pattern = self._topic_pattern(rule.query)
            if (topic is not None and pattern != topic) or (
                disabled is not None and rule.disabled != disabled
            ):
                continue
            items.append(
                {
                    "ruleArn": rule.arn,
                    "ruleName": rule.name,
                    "topicPattern": pattern,
                    "createdAt": rule.created_at.timestamp(),
                    "ruleDisabled": rule.disabled,
                }
            )
        return items


def compile_rule_sql(sql: str, version: str) -> CompiledQuery:
    """Compile a rule's SQL; a parse error is the control plane's `SqlParseException` (HTTP 400)."""
    try:
        return compile_sql(sql, version)
    except SqlParseError as error:
        raise ControlPlaneError("SqlParseException", str(error), 400) from error


def compiled_topic_filter(query: CompiledQuery) -> str:
    """ListTopicRules' `topicPattern` (empty for a Basic-Ingest-only rule without FROM)."""
    return query.topic_filter or ""
