"""Where the event lines come from, each through a seam that already exists, with counters for `status`:

- `BrokerEvents`, a broker listener: every accepted message is a PUBLISH; AWS's lifecycle events
  (`$aws/events/presence/...`, `$aws/events/subscriptions/...`) become CONNECT, DISCONNECT, SUBSCRIBE and
  UNSUBSCRIBE lines (the connection's protocol and transport added from the live connection).
- `ObservedAuthenticator`, around the stack's authenticator: CONNECT_REFUSED, and DENIED for each policy
  decision that refuses (once per connection, action and resource while the connection's decision cache
  holds it; `recent_denials` keeps the last ones for `status`).
- `RuleEvents`, a rules-engine observer: RULE when WHERE matched, ACTION, ACTION_FAILED, ERROR_ACTION, and
  per-rule counters.
- `FunctionEvents`, the Lambda runtime's log listener: INVOKE (START), FUNCTION_LOG (each line the handler
  writes, as it writes it), REPORT, FUNCTION_ERROR.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from iot_policies.evaluator import Decision
from localcore.broker.authorization import Authenticator, Authority, ConnectRefused, ConnectRequest
from localcore.broker.lifecycle import PRESENCE_PREFIX, SUBSCRIPTIONS_PREFIX
from localcore.broker.message import Message
from localcore.lambda_runtime.logs import LogLine
from localcore.observe.events import Event, EventLog
from localcore.rules.engine import RuleRun

_LIFECYCLE = {
    "connected": "CONNECT",
    "disconnected": "DISCONNECT",
    "subscribed": "SUBSCRIBE",
    "unsubscribed": "UNSUBSCRIBE",
}


@dataclass(frozen=True)
class ConnectionInfo:
    """What the status shows about a live connection, looked up by client id."""

    protocol: str  # "MQTT 3.1.1" or "MQTT 5"
    transport: str  # tcp, tls, ws


class BrokerEvents:
    """A broker listener turning messages into PUBLISH lines and lifecycle events into connection lines."""

    def __init__(self, events: EventLog, connection_info: Callable[[str], ConnectionInfo | None]) -> None:
        self.events = events
        self.connection_info = connection_info

    def __call__(self, message: Message) -> None:
        topic = message.topic
        if topic.startswith((PRESENCE_PREFIX, SUBSCRIPTIONS_PREFIX)):
            self._lifecycle(message)
            return
        self.events.published(message)

    def _lifecycle(self, message: Message) -> None:
        body = json.loads(message.payload)
        kind = _LIFECYCLE.get(body.get("eventType", ""))
        if kind is None:
            return
        client_id = body.get("clientId")
        fields: dict[str, Any] = {"client_id": client_id, "principal": body.get("principalIdentifier")}
        if kind == "CONNECT":
            info = self.connection_info(client_id)
            fields.update(ip=body.get("ipAddress"))
            if info is not None:
                fields.update(protocol=info.protocol, transport=info.transport)
        elif kind == "DISCONNECT":
            fields["reason"] = body.get("disconnectReason")
        else:
            fields["topics"] = body.get("topics", [])
        self.events.emit(kind, **fields)


class _ObservedAuthority:
    """The connection's authority, reporting each refusal it decides."""

    def __init__(
        self, inner: Authority, client_id: str, denied: Callable[[str, str, str, str, str], None]
    ) -> None:
        self.inner = inner
        self.client_id = client_id
        self._denied = denied

    @property
    def principal_id(self) -> str:
        return self.inner.principal_id

    def decide(self, action: str, resource: str) -> Decision:
        decision = self.inner.decide(action, resource)
        if not decision.allowed:
            self._denied(action, resource, self.client_id, self.inner.principal_id, decision.reason)
        return decision


class ObservedAuthenticator:
    """Wraps the stack's authenticator: CONNECT_REFUSED and DENIED lines, the last denials for `status`."""

    def __init__(self, inner: Authenticator, events: EventLog, keep: int = 50) -> None:
        self.inner = inner
        self.events = events
        self.recent_denials: deque[Event] = deque(maxlen=keep)

    def authenticate(self, request: ConnectRequest) -> Authority:
        try:
            authority = self.inner.authenticate(request)
        except ConnectRefused as refused:
            self._record(
                "CONNECT_REFUSED",
                client_id=request.client_id,
                username=request.username,
                transport=request.transport,
                reason=refused.reason,
            )
            raise
        return _ObservedAuthority(authority, request.client_id, self._denied)

    def _denied(self, action: str, resource: str, client_id: str, principal: str, reason: str) -> None:
        self._record(
            "DENIED",
            action=action,
            resource=resource,
            client_id=client_id,
            principal=principal,
            reason=reason,
        )

    def _record(self, kind: str, **fields: Any) -> None:
        self.recent_denials.append(self.events.emit(kind, "warning", **fields))


@dataclass
class RuleCounters:
    """What one rule did since the start (status)."""

    evaluated: int = 0
    matched: int = 0
    actions: int = 0
    failures: int = 0
    error_actions: int = 0


class RuleEvents:
    """A rules-engine observer: event lines and counters per rule."""

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self.counters: dict[str, RuleCounters] = {}

    def __call__(self, run: RuleRun) -> None:
        counters = self.counters.setdefault(run.rule, RuleCounters())
        counters.evaluated += 1
        if not run.matched:
            return
        counters.matched += 1
        counters.actions += len(run.actions)
        counters.failures += len(run.failures)
        counters.error_actions += int(run.error_action_ran)
        self.events.emit("RULE", rule=run.rule, topic=run.topic)
        for action in run.actions:
            self.events.emit("ACTION", rule=run.rule, action=action)
        for failure in run.failures:
            self.events.emit(
                "ACTION_FAILED",
                "warning",
                rule=run.rule,
                action=failure.kind,
                resource=failure.resource,
                error=failure.message,
            )
        if run.error_action_ran:
            self.events.emit("ERROR_ACTION", rule=run.rule, failures=len(run.failures))


class FunctionEvents:
    """The Lambda runtime's log listener: each function log line as an event line, as it happens."""

    def __init__(self, events: EventLog) -> None:
        self.events = events

    def __call__(self, line: LogLine) -> None:
        text = line.text
        if line.kind == "error":
            self.events.emit("FUNCTION_ERROR", "warning", function=line.function, error=text)
        elif line.kind == "output":
            self.events.emit("FUNCTION_LOG", function=line.function, line=text)
        elif text.startswith("START RequestId: "):
            self.events.emit("INVOKE", function=line.function, request_id=text.split()[2])
        elif text.startswith("REPORT RequestId: "):
            fields = dict(_report_fields(text.split("\t")))
            self.events.emit("REPORT", "info", function=line.function, **fields)


def _report_fields(parts: Iterable[str]) -> Iterable[tuple[str, str]]:
    """`REPORT RequestId: r\tDuration: 12.34 ms\t...` -> (request_id, r), (duration, 12.34 ms), ..."""
    for part in parts:
        key, _, value = part.removeprefix("REPORT ").partition(": ")
        if key in ("RequestId", "Duration", "Init Duration", "Max Memory Used"):
            yield (
                {"RequestId": "request_id", "Init Duration": "init"}.get(key, key.lower().replace(" ", "_")),
                value,
            )
