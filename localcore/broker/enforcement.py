"""Authorization for one connection: cached Authority decisions; denials go to the connection's `DenialLog`."""

from __future__ import annotations

from iot_policies.evaluator import Decision
from localcore.broker.authorization import Authority
from localcore.broker.denials import DenialLog, authz_log

_CACHE_LIMIT = 4096


class Enforcer:
    """Asks the connection's Authority; decisions are cached per (action, resource) until `forget()`.

    AWS evaluates policies at each action but caches attached policies per connection for a while; the cache
    keeps per-delivery iot:Receive checks cheap. `Broker.refresh_authorization()` clears every cache.
    """

    __slots__ = ("_cache", "authority", "client_id", "denials")

    def __init__(self, authority: Authority, client_id: str, denials: DenialLog | None = None) -> None:
        self.authority = authority
        self.client_id = client_id
        self.denials = denials or DenialLog(client_id, authority.principal_id)
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
        self.denials.denied(action, resource, decision.reason)
        return False

    def forget(self) -> None:
        self._cache.clear()
