"""The project's policies, shipped as JSON beside this module (read by CDK and localcore)."""

from __future__ import annotations

import functools
from pathlib import Path

from iot_policies.document import PolicyDocument, parse_policy
from iot_policies.errors import UnknownPolicyError

# name -> what it is for
SHIPPED_POLICIES: dict[str, str] = {
    "user": "IoT policy attached to each signed-in user: own client id, own chat topics only",
    "dashboard": "IoT policy for the dashboard group: read-only broadcast of every stream",
    "role-authenticated": "IAM policy of the identity pool's authenticated role: the same scope as `user`",
    "role-dashboard": "IAM policy of the dashboard group's role: the same scope as `dashboard` (no Publish)",
}


def policy_dir() -> Path:
    """The folder holding the shipped `*.json` policies."""
    return Path(__file__).resolve().parent


def shipped_path(name: str) -> Path:
    if name not in SHIPPED_POLICIES:
        raise UnknownPolicyError(name, tuple(SHIPPED_POLICIES))
    return policy_dir() / f"{name}.json"


@functools.cache
def load_shipped(name: str) -> PolicyDocument:
    """Parse (once) the shipped policy `name`, e.g. "user"."""
    return parse_policy(shipped_path(name).read_text(encoding="utf-8"), name=name)
