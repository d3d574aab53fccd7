"""The rules engine: every message the broker accepts goes through the enabled rules whose FROM matches.

Basic Ingest (`$aws/rules/{ruleName}/...`) goes straight to that one rule, with the prefix removed from the
topic the SQL sees. A rule runs its actions when WHERE is exactly true; if any action fails, the rule's
errorAction gets one AWS-shaped error message for that rule and message.

The rules themselves are the IoT service's state (`localcore/iot/topic_rules.py`); the engine reads them
through the small `RuleSource` protocol below, so the engine never imports the IoT service.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from localcore.broker.message import Message
from localcore.broker.topics import split_basic_ingest
from localcore.errors import LocalcoreError
from localcore.rules.actions import (
    ActionFailed,
    ActionScope,
    AsyncInvoker,
    LogSink,
    MessagePublisher,
    Render,
    error_action_payload,
    run_cloudwatch_logs,
    run_lambda,
    run_republish,
)
from localcore.rules.dynamodb_plans import plan_dynamodb, plan_dynamodb_v2
from localcore.rules.http_action import run_http
from localcore.rules.log_groups import LoggingSink
from localcore.rules.service_calls import NoServices, Plan, Planner, ServiceCaller, ServiceCallError
from localcore.rules.service_plans import (
    plan_cloudwatch_metric,
    plan_firehose,
    plan_kinesis,
    plan_s3,
    plan_sns,
    plan_sqs,
)
from localcore.rules.sql import CompiledQuery, SqlContext, render_template

log = logging.getLogger("localcore.rules")
PLANNERS: Mapping[str, Planner] = {
    "dynamoDB": plan_dynamodb,
    "dynamoDBv2": plan_dynamodb_v2,
    "sqs": plan_sqs,
    "sns": plan_sns,
    "s3": plan_s3,
    "kinesis": plan_kinesis,
    "firehose": plan_firehose,
    "cloudwatchMetric": plan_cloudwatch_metric,
}
"""The actions that are AWS API calls made as their role (`roleArn`)."""


class Rule(Protocol):
    """One topic rule as the engine runs it: its compiled query and its TopicRulePayload."""

    @property
    def name(self) -> str: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...

    @property
    def query(self) -> CompiledQuery: ...

    @property
    def disabled(self) -> bool: ...

    @property
    def sql_version(self) -> str: ...


class RuleSource(Protocol):
    """Where the engine finds the account's rules (the IoT backend's rule store)."""

    def find(self, name: str) -> Rule | None:
        """The rule of that name, enabled or not."""
        ...

    def enabled(self) -> Sequence[Rule]:
        """The enabled rules, by name."""
        ...


@dataclass
class RuleRun:
    """What one rule did with one message (for tests, `rules test` and logs)."""

    rule: str
    topic: str
    matched: bool
    output: Any = None
    actions: list[str] = field(default_factory=list)
    failures: list[ActionFailed] = field(default_factory=list)
    error_action_ran: bool = False


class RulesEngine:
    """Runs topic rules for broker messages; plug `on_message` into `Broker.add_listener`."""

    def __init__(
        self,
        store: RuleSource,
        invoker: AsyncInvoker,
        publisher: MessagePublisher,
        account_id: str = "000000000000",
        log_sink: LogSink | None = None,
        services: ServiceCaller | None = None,
    ) -> None:
        self.store = store
        self.invoker = invoker
        self.publisher = publisher
        self.account_id = account_id
        self.log_sink: LogSink = log_sink or LoggingSink()
        self.observers: list[Callable[[RuleRun], None]] = []
        """Called with every RuleRun, matched or not (localcore's event lines and rule counters)."""
        self.failure_observers: list[Callable[[ActionFailed], None]] = []
        """Called with each action that fails (an errorAction too) as it fails, before the rule goes on
        (`iotstream rules test` prints failures in order among the deliveries)."""
        self.services: ServiceCaller = services or NoServices()
        self._tasks: set[asyncio.Task[list[RuleRun]]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def on_message(self, message: Message) -> None:
        """Broker listener: pick the triggered rules now; run them in the background on the running loop."""
        rules, topic = self.rules_for(message)
        if not rules:
            return
        task = asyncio.get_running_loop().create_task(self.run_rules(rules, message, topic))
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[list[RuleRun]]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("rules engine failed on a message", exc_info=task.exception())
        if not self._tasks:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Until every message handed to the engine so far has been processed (for tests)."""
        await self._idle.wait()

    def rules_for(self, message: Message) -> tuple[list[Rule], str]:
        """The enabled rules a message triggers, and the topic their SQL sees."""
        target = split_basic_ingest(message.topic)
        if target is not None:
            rule = self.store.find(target[0])
            return ([rule] if rule is not None and not rule.disabled else []), target[1]
        return [r for r in self.store.enabled() if r.query.matches_topic(message.topic)], message.topic

    async def process(self, message: Message) -> list[RuleRun]:
        """Run every rule the message triggers (what the broker listener does, awaited)."""
        rules, topic = self.rules_for(message)
        return await self.run_rules(rules, message, topic)

    async def run_rules(self, rules: Sequence[Rule], message: Message, topic: str) -> list[RuleRun]:
        """Run the given rules (as picked by `rules_for`) on one message, in order."""
        if not rules:
            return []
        context = SqlContext.from_message(message, account_id=self.account_id)
        if topic != message.topic:
            context = dataclasses.replace(context, topic=topic)
        runs = [await self.run_rule(rule, message, context) for rule in rules]
        for run in runs:
            for observer in self.observers:
                observer(run)
        return runs

    async def run_rule(self, rule: Rule, message: Message, context: SqlContext) -> RuleRun:
        """Evaluate one rule and run its actions (and errorAction on failures)."""
        result = rule.query.evaluate(context)
        run = RuleRun(rule.name, context.topic, result.matched)
        if not result.matched:
            return run
        run.output = result.payload if result.is_binary else result.output

        def render(template: str) -> str:
            return render_template(template, context, rule.sql_version, result.variables)

        publisher = message.publisher
        scope = ActionScope(rule.name, message.topic, publisher.principal or publisher.client_id or "")
        for action in rule.payload.get("actions", []):
            try:
                run.actions.append(await self._run_action(action, run.output, render, scope))
            except ActionFailed as failure:
                log.warning("rule %s: %s", rule.name, failure)
                run.failures.append(failure)
        error_action = rule.payload.get("errorAction")
        if run.failures and error_action:
            trace_id = message.publisher.trace_id or str(uuid.uuid4())
            payload = error_action_payload(rule.name, message, trace_id, run.failures)
            try:
                await self._run_action(error_action, payload, render, scope)
                run.error_action_ran = True
            except ActionFailed as failure:
                log.error("rule %s: errorAction failed too: %s", rule.name, failure)
        return run

    async def _run_action(
        self, action: Mapping[str, Any], output: Any, render: Render, scope: ActionScope
    ) -> str:
        kind, params = next(iter(action.items()))
        try:
            return await self._dispatch(kind, params, output, render, scope)
        except ActionFailed as failure:
            self._failed(failure)
            raise
        except LocalcoreError as error:  # e.g. a template that renders badly: this action fails, not the rule
            failed = ActionFailed(
                kind, str(params.get("topic") or params.get("functionArn") or ""), str(error)
            )
            self._failed(failed)
            raise failed from error

    def _failed(self, failure: ActionFailed) -> None:
        for observer in self.failure_observers:
            observer(failure)

    async def _dispatch(
        self, kind: str, params: Mapping[str, Any], output: Any, render: Render, scope: ActionScope
    ) -> str:
        planner = PLANNERS.get(kind)
        if planner is not None:
            return await self._carry_out(planner(params, output, render), scope)
        if kind == "http":
            outcome = await run_http(params, output, render, self.services, scope.rule)
            return f"http:{outcome.delivery.url}"
        if kind == "lambda":
            await run_lambda(params, output, render, self.invoker, scope.source)
            return f"lambda:{params['functionArn']}"
        if kind == "republish":
            target = await run_republish(params, output, render, self.publisher)
            return f"republish:{target.topic}"
        if kind == "cloudwatchLogs":
            return f"cloudwatchLogs:{run_cloudwatch_logs(params, output, render, self.log_sink)}"
        raise ActionFailed(kind, "", f"action type {kind!r} is not supported by localcore")

    async def _carry_out(self, plan: Plan, scope: ActionScope) -> str:
        """Make the plan's calls as its role; the first failure fails the action, in AWS's words."""
        for call in plan.calls:
            try:
                answer = await self.services.call(call, scope.rule)
            except ServiceCallError as error:
                raise ActionFailed(
                    plan.kind, plan.resource, plan.error_message(error.describe(), scope.topic)
                ) from None
            problem = plan.check(answer) if plan.check is not None else None
            if problem is not None:
                raise ActionFailed(plan.kind, plan.resource, plan.error_message(problem, scope.topic))
        return f"{plan.kind}:{plan.resource}"
