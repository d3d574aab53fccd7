"""`GET /_localcore/status` (admin only): what is connected, what the rules and functions did, what was refused.

{"connections": [{"client_id", "principal", "protocol", "transport", "source_ip", "subscriptions": [...]}],
 "sessions": {"persistent_offline": n}, "retained_messages": n,
 "rules": [{"name", "enabled", "topic", "evaluated", "matched", "actions", "failures", "error_actions"}],
 "functions": [{"name", "invocations", "errors", "timeouts", "throttles", "cold_starts", "async_events"}],
 "denials": [the last refusals, newest last]}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from localcore.broker.broker import Broker
from localcore.broker.codec import MQTT5
from localcore.broker.protocol import OPEN
from localcore.lambda_runtime import LambdaRuntime
from localcore.observe.events import Event
from localcore.observe.sources import ConnectionInfo, RuleCounters
from localcore.rules.engine import Rule


def protocol_name(level: int) -> str:
    return "MQTT 5" if level == MQTT5 else "MQTT 3.1.1"


def connection_info(broker: Broker, client_id: str) -> ConnectionInfo | None:
    """The live connection of a client id (the broker keeps at most one), for CONNECT lines."""
    for connection in broker.connections:
        protocol = connection.protocol
        if protocol.client_id == client_id and protocol.state is OPEN:
            return ConnectionInfo(protocol_name(protocol.protocol_level), protocol.peer.transport)
    return None


def connections(broker: Broker) -> list[dict[str, Any]]:
    rows = []
    for connection in broker.connections:
        protocol = connection.protocol
        if protocol.state is not OPEN:
            continue
        session = protocol.session
        subscriptions = session.subscriptions.values() if session is not None else ()
        rows.append(
            {
                "client_id": protocol.client_id,
                "principal": protocol.principal,
                "protocol": protocol_name(protocol.protocol_level),
                "transport": protocol.peer.transport,
                "source_ip": protocol.source_ip,
                "subscriptions": sorted(f"{s.filter.full} (QoS {s.qos})" for s in subscriptions),
            }
        )
    return sorted(rows, key=lambda row: str(row["client_id"]))


def rules(all_rules: Iterable[Rule], counters: Mapping[str, RuleCounters]) -> list[dict[str, Any]]:
    return [
        {
            "name": rule.name,
            "enabled": not rule.disabled,
            "topic": rule.query.topic_filter or "(Basic Ingest only)",
            **dataclasses.asdict(counters.get(rule.name, RuleCounters())),
        }
        for rule in all_rules
    ]


def functions(runtime: LambdaRuntime | None) -> list[dict[str, Any]]:
    if runtime is None:
        return []
    rows = []
    for name in runtime.function_names:
        stats = runtime.stats(name)
        rows.append(
            {
                "name": name,
                "invocations": stats.invocations,
                "errors": stats.errors,
                "timeouts": stats.timeouts,
                "throttles": stats.throttles,
                "cold_starts": stats.cold_starts,
                "async_events": stats.async_events,
            }
        )
    return rows


def stack_status(
    broker: Broker,
    all_rules: Iterable[Rule],
    counters: Mapping[str, RuleCounters],
    runtime: LambdaRuntime | None,
    denials: Iterable[Event],
) -> dict[str, Any]:
    return {
        "connections": connections(broker),
        "sessions": {
            "persistent_offline": sum(1 for s in broker.sessions.values() if s.connection is None),
        },
        "retained_messages": len(broker.retained),
        "rules": rules(all_rules, counters),
        "functions": functions(runtime),
        "denials": [event.to_json() for event in denials],
    }
