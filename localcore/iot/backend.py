"""The IoT service's state for one account and region (moto's `IoTBackend`): policies with their versions and
attachments, and topic rules. The HTTP layer (`api.py`) only parses, calls and serialises; the broker, the
rules engine and the policy decisions read this state directly."""

from __future__ import annotations

from localcore.iot.policies import PolicyStore
from localcore.iot.topic_rules import RuleStore


class IotBackend:
    """`policies` (PolicyStore) and `rules` (RuleStore), both thread-safe, in `region` and `account`."""

    def __init__(self, region: str = "us-east-1", account: str = "000000000000") -> None:
        self.region = region
        self.account = account
        self.policies = PolicyStore(region, account)
        self.rules = RuleStore(region, account)

    def arn(self, resource: str) -> str:
        """`arn:aws:iot:<region>:<account>:<resource>` (e.g. `policy/<name>`, `rule/<name>`)."""
        return f"arn:aws:iot:{self.region}:{self.account}:{resource}"
