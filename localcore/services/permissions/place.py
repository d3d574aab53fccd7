"""What every permission rule shares: the (action, resource ARN) pair and the account and region ARNs name."""

from __future__ import annotations

from dataclasses import dataclass

Permission = tuple[str, str]  # (action, resource ARN)


@dataclass(frozen=True)
class Place:
    """The region and account of this localcore: the middle of every regional ARN."""

    region: str
    account: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def global_arn(self, service: str, resource: str) -> str:
        """ARNs of global services (IAM) carry no region."""
        return f"arn:aws:{service}::{self.account}:{resource}"
