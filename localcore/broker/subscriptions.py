"""A subscription index: a trie of filter levels; matching costs the topic depth, not the subscriber count.

Each session appears at most once per topic match (overlapping filters deliver once, at the highest granted
QoS). Shared subscriptions (`$share/<group>/<filter>`) are kept per group and handed out round-robin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from localcore.broker.topics import ParsedFilter

T = TypeVar("T")


@dataclass(slots=True)
class Subscription(Generic[T]):
    """One filter of one session."""

    owner: T
    key: str  # the owning session's client id
    filter: ParsedFilter
    qos: int
    no_local: bool = False
    retain_as_published: bool = False


@dataclass(slots=True)
class SharedGroup(Generic[T]):
    """The members of one `$share/<group>/<filter>`; `pick` rotates through them."""

    members: list[Subscription[T]] = field(default_factory=list)
    cursor: int = 0


class _Node(Generic[T]):
    __slots__ = ("children", "shared", "subscribers")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        self.subscribers: dict[str, Subscription[T]] = {}
        self.shared: dict[str, SharedGroup[T]] = {}


class SubscriptionIndex(Generic[T]):
    """Filters → subscriptions, matched against concrete topics."""

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self.count = 0

    def _node(self, topic_filter: str, create: bool) -> _Node[T] | None:
        node = self._root
        for level in topic_filter.split("/"):
            child = node.children.get(level)
            if child is None:
                if not create:
                    return None
                child = node.children[level] = _Node()
            node = child
        return node

    def add(self, subscription: Subscription[T]) -> bool:
        """Add or replace; True when the filter is new for that session."""
        node = self._node(subscription.filter.filter, create=True)
        assert node is not None
        group_name = subscription.filter.share_group
        if group_name is None:
            new = subscription.key not in node.subscribers
            node.subscribers[subscription.key] = subscription
        else:
            group = node.shared.setdefault(group_name, SharedGroup())
            for index, member in enumerate(group.members):
                if member.key == subscription.key:
                    group.members[index] = subscription
                    return False
            group.members.append(subscription)
            new = True
        self.count += new
        return new

    def remove(self, key: str, parsed: ParsedFilter) -> bool:
        """Remove one session's filter; True if it existed. Empty branches are pruned."""
        path: list[tuple[_Node[T], str]] = []
        node = self._root
        for level in parsed.filter.split("/"):
            child = node.children.get(level)
            if child is None:
                return False
            path.append((node, level))
            node = child
        removed = False
        if parsed.share_group is None:
            removed = node.subscribers.pop(key, None) is not None
        else:
            group = node.shared.get(parsed.share_group)
            if group is not None:
                before = len(group.members)
                group.members = [member for member in group.members if member.key != key]
                removed = len(group.members) != before
                if not group.members:
                    del node.shared[parsed.share_group]
        self.count -= removed
        for parent, level in reversed(path):
            child = parent.children[level]
            if child.children or child.subscribers or child.shared:
                break
            del parent.children[level]
        return removed

    def match(self, topic: str) -> tuple[list[Subscription[T]], list[SharedGroup[T]]]:
        """Subscriptions matching `topic` (one per session, highest QoS) and the matching shared groups."""
        levels = topic.split("/")
        depth = len(levels)
        dollar = topic.startswith("$")
        found: list[_Node[T]] = []
        stack: list[tuple[_Node[T], int]] = [(self._root, 0)]
        while stack:
            node, index = stack.pop()
            if index == depth:
                found.append(node)
                continue
            children = node.children
            if not (dollar and index == 0):
                multi = children.get("#")
                if multi is not None:
                    found.append(multi)
                single = children.get("+")
                if single is not None:
                    stack.append((single, index + 1))
            exact = children.get(levels[index])
            if exact is not None:
                stack.append((exact, index + 1))
        groups: list[SharedGroup[T]] = []
        if len(found) == 1:
            node = found[0]
            if node.shared:
                groups.extend(node.shared.values())
            return list(node.subscribers.values()), groups
        best: dict[str, Subscription[T]] = {}
        for node in found:
            for key, subscription in node.subscribers.items():
                current = best.get(key)
                if current is None or subscription.qos > current.qos:
                    best[key] = subscription
            if node.shared:
                groups.extend(node.shared.values())
        return list(best.values()), groups
