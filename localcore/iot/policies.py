"""IoT policies, their versions and their attachments to targets (Cognito identities, certificates).

All mutable policy state lives here. Changes apply to live connections at once: the broker asks
`documents_for(target)` on every decision and this store answers from its current state (AWS caches
policies for 6-8 minutes; immediate is the strictest faithful choice, see docs/localcore.md, "Policy changes").
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from iot_policies.document import PolicyDocument, parse_policy
from iot_policies.errors import PolicyDocumentError
from localcore.iot.exceptions import (
    DeleteConflictException,
    InvalidRequestException,
    LimitExceededException,
    MalformedPolicyException,
    VersionsLimitExceededException,
    already_exists,
    not_found,
)

POLICY_NAME = re.compile(r"[\w+=,.@-]{1,128}")
MAX_VERSIONS = 5  # named versions per policy
MAX_POLICIES_PER_TARGET = 10  # attached to one certificate or Cognito identity


@dataclass
class PolicyVersion:
    """One immutable version of a policy document."""

    version_id: str
    text: str
    document: PolicyDocument
    created: datetime


@dataclass
class StoredPolicy:
    """A named policy with up to five versions, one of them the default."""

    name: str
    arn: str
    versions: dict[str, PolicyVersion] = field(default_factory=dict)
    default_version: str = "1"
    next_version: int = 1

    @property
    def default(self) -> PolicyVersion:
        return self.versions[self.default_version]


class PolicyStore:
    """The account's IoT policies and attachments, thread-safe (read by the broker, written over HTTP)."""

    def __init__(self, region: str = "us-east-1", account: str = "000000000000") -> None:
        self.region = region
        self.account = account
        self._lock = threading.RLock()
        self._policies: dict[str, StoredPolicy] = {}
        self._attachments: dict[str, list[str]] = {}  # target -> policy names, in attach order
        self.generation = 0  # bumped on every change; caches key on it
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every change (the broker drops its cached decisions)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        self.generation += 1
        for listener in self._listeners:
            listener()

    def policy_arn(self, name: str) -> str:
        return f"arn:aws:iot:{self.region}:{self.account}:policy/{name}"

    # policies -----------------------------------------------------------------------------------
    def create_policy(self, name: str, text: str) -> StoredPolicy:
        """CreatePolicy: a new policy whose version 1 is the default."""
        if not POLICY_NAME.fullmatch(name):
            raise InvalidRequestException(f"policyName {name!r} must match [\\w+=,.@-]+ (1-128 characters)")
        document = _parse(text, name)
        with self._lock:
            if name in self._policies:
                raise already_exists(f"Policy {name}")
            policy = StoredPolicy(name=name, arn=self.policy_arn(name))
            self._add_version(policy, text, document, set_as_default=True)
            self._policies[name] = policy
            self._changed()
            return policy

    def get_policy(self, name: str) -> StoredPolicy:
        with self._lock:
            policy = self._policies.get(name)
            if policy is None:
                raise not_found(f"Policy {name}")
            return policy

    def list_policies(self) -> list[StoredPolicy]:
        with self._lock:
            return sorted(self._policies.values(), key=lambda p: p.name)

    def delete_policy(self, name: str) -> None:
        """DeletePolicy: refused while attached or while it has non-default versions (AWS's rule)."""
        with self._lock:
            policy = self.get_policy(name)
            if any(name in names for names in self._attachments.values()):
                raise DeleteConflictException(f"Policy {name} is attached to targets")
            if len(policy.versions) > 1:
                raise DeleteConflictException(f"Policy {name} has non-default versions; delete them first")
            del self._policies[name]
            self._changed()

    # versions -----------------------------------------------------------------------------------
    def create_policy_version(self, name: str, text: str, set_as_default: bool) -> PolicyVersion:
        document = _parse(text, name)
        with self._lock:
            policy = self.get_policy(name)
            if len(policy.versions) >= MAX_VERSIONS:
                raise VersionsLimitExceededException(f"Policy {name} already has {MAX_VERSIONS} versions")
            version = self._add_version(policy, text, document, set_as_default)
            self._changed()
            return version

    def set_default_version(self, name: str, version_id: str) -> None:
        with self._lock:
            policy = self.get_policy(name)
            if version_id not in policy.versions:
                raise not_found(f"Policy {name} version {version_id}")
            policy.default_version = version_id
            self._changed()

    def delete_policy_version(self, name: str, version_id: str) -> None:
        with self._lock:
            policy = self.get_policy(name)
            if version_id not in policy.versions:
                raise not_found(f"Policy {name} version {version_id}")
            if version_id == policy.default_version:
                raise DeleteConflictException("Cannot delete the default version")
            del policy.versions[version_id]
            self._changed()

    def _add_version(
        self, policy: StoredPolicy, text: str, document: PolicyDocument, set_as_default: bool
    ) -> PolicyVersion:
        version = PolicyVersion(str(policy.next_version), text, document, datetime.now(UTC))
        policy.versions[version.version_id] = version
        policy.next_version += 1
        if set_as_default:
            policy.default_version = version.version_id
        return version

    # attachments --------------------------------------------------------------------------------
    def attach(self, name: str, target: str) -> None:
        """AttachPolicy: idempotent; at most ten policies per target."""
        with self._lock:
            self.get_policy(name)
            attached = self._attachments.setdefault(target, [])
            if name in attached:
                return
            if len(attached) >= MAX_POLICIES_PER_TARGET:
                raise LimitExceededException(
                    f"Target {target} already has {MAX_POLICIES_PER_TARGET} attached policies"
                )
            attached.append(name)
            self._changed()

    def detach(self, name: str, target: str) -> None:
        with self._lock:
            self.get_policy(name)
            attached = self._attachments.get(target, [])
            if name in attached:
                attached.remove(name)
                self._changed()

    def attached_to(self, target: str) -> list[StoredPolicy]:
        with self._lock:
            return [
                self._policies[name] for name in self._attachments.get(target, []) if name in self._policies
            ]

    def targets_of(self, name: str) -> list[str]:
        with self._lock:
            self.get_policy(name)
            return sorted(target for target, names in self._attachments.items() if name in names)

    def documents_for(self, target: str) -> list[PolicyDocument]:
        """The default version of every policy attached to `target`: what the broker evaluates."""
        with self._lock:
            return [policy.default.document for policy in self.attached_to(target)]

    def load(self, policies: Iterable[tuple[str, str]]) -> None:
        """Create policies (name, text) at start-up, replacing nothing that exists."""
        for name, text in policies:
            if name not in self._policies:
                self.create_policy(name, text)


def _parse(text: str, name: str) -> PolicyDocument:
    try:
        return parse_policy(text, name)
    except PolicyDocumentError as error:
        raise MalformedPolicyException(str(error)) from error
