"""Seeing what localcore does: structured event lines (`events.py`) from the broker, the rules engine, the
functions and the policy decisions (`sources.py`), and the `/_localcore/...` routes (`routes.py`): health and
info for anyone, status and the event stream for the local admin (SigV4). `iotstream status`, `iotstream logs`
and `iotstream up --verbose` read them."""

from __future__ import annotations

from localcore.observe.events import Event, EventLog, format_event

__all__ = ["Event", "EventLog", "format_event"]
