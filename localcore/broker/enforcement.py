"""Authorization for one connection: cached Authority decisions; each denial is logged as one JSON line."""

from __future__ import annotations

import json
import logging

from iot_policies.evaluator import Decision
from localcore.broker.authorization import Authority

authz_log = logging.getLogger("localcore.broker.authz")

_CACHE_LIMIT = 4096


def log_denial(
    action: str,
    resource: str,
    client_id: str | None,
    principal: str | None,
    reason: str,
    event: str = "denied",
) -> None:
    """One structured line per denial: the reason AWS never tells the client."""
    authz_log.warning(
        json.dumps(
            {
                "event": event,
                "action": action,
                "resource": resource,
                "client_id": client_id,
                "principal": principal,
                "reason": reason,
            }
        )
    )


class Enforcer:
    """Asks the connection's Authority; decisions are cached per (action, resource) until `forget()`.

    AWS evaluates policies at each action but caches attached policies per connection for a while; the cache
    keeps per-delivery iot:Receive checks cheap. `Broker.refresh_authorization()` clears every cache.
    """

    __slots__ = ("_cache", "authority", "client_id")

    def __init__(self, authority: Authority, client_id: str) -> None:
        self.authority = authority
        self.client_id = client_id
        self._cache: dict[tuple[str, str], Decision] = {}

    def allowed(self, action: str, resource: str) -> bool:
        key = (action, resource)
        decision = self._cache.get(key)
        if decision is None:
            try:
                decision = self.authority.decide(action, resource)
            except Exception as error:  # noqa: BLE001 - boundary: a failing authority denies, never breaks delivery
                authz_log.exception("authority failed deciding %s on %s", action, resource)
                decision = Decision(False, action, resource, f"authority error: {error!r}")
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = decision
        if decision.allowed:
            return True
        log_denial(action, resource, self.client_id, self.authority.principal_id, decision.reason)
        return False

    def forget(self) -> None:
        self._cache.clear()
