"""Policy evaluation speed: decisions/s for the shipped policies, against a naive reference in-process.

    python -m bench.policy [--seconds 0.3]

The reference re-substitutes variables and matches with `fnmatch.fnmatchcase` on every call (what a
straightforward evaluator does); the ratio shows what precompiling and caching buy. No assertions.
"""

from __future__ import annotations

import argparse
import fnmatch
import time
from collections.abc import Callable, Sequence

from iot_policies import (
    PolicyDocument,
    RequestContext,
    evaluate,
    evaluate_authenticated,
    load_shipped,
    resource_arn,
)
from iot_policies.arns import CONNECT, PUBLISH, RECEIVE, SUBSCRIBE
from localcore.broker.enforcement import Enforcer
from localcore.broker.local_auth import PolicyAuthority

IDENTITY = "us-east-1:6f1c2d3e-0a1b-4c2d-8e3f-0123456789ab"
RID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def naive_evaluate(
    policies: Sequence[PolicyDocument], action: str, arn: str, variables: dict[str, str]
) -> bool:
    """Reference: substitute `${...}` by text replacement and glob with fnmatch, every call (no conditions)."""

    def escape(text: str) -> str:  # fnmatch's `[...]` classes are not IAM wildcards
        return text.replace("[", "[[]")

    def resource_matches(patterns: Sequence[str]) -> bool:
        for pattern in patterns:
            pattern = escape(pattern)
            for key, value in variables.items():
                pattern = pattern.replace("${" + key + "}", escape(value))
            if "${" not in pattern and fnmatch.fnmatchcase(arn, pattern):
                return True
        return False

    allowed = False
    for policy in policies:
        for statement in policy.statements:
            action_hit = any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in statement.actions)
            if action_hit == statement.not_action:
                continue
            if resource_matches(statement.resources) != statement.not_resource:
                if statement.effect == "Deny":
                    return False
                allowed = True
    return allowed


def rate(call: Callable[[], object], seconds: float) -> float:
    count = 0
    batch = 1000
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            call()
        count += batch
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.3, help="time per row")
    seconds = parser.parse_args().seconds
    user, dashboard, role = (
        load_shipped("user"),
        load_shipped("dashboard"),
        load_shipped("role-authenticated"),
    )
    context = RequestContext.for_identity(IDENTITY, client_id=IDENTITY)
    variables = dict(context.variables)
    cases = [
        ("user Connect (allow)", [user], CONNECT, IDENTITY),
        ("user Publish prompt (allow)", [user], PUBLISH, f"chat/{IDENTITY}/prompt"),
        ("user Subscribe chat/# (deny)", [user], SUBSCRIBE, "chat/#"),
        ("user Receive response (allow)", [user], RECEIVE, f"chat/{IDENTITY}/response/{RID}"),
        ("user Receive other's (deny)", [user], RECEIVE, f"chat/us-east-1:other/response/{RID}"),
        ("dashboard Receive (allow)", [dashboard], RECEIVE, f"chat/{IDENTITY}/response/{RID}"),
    ]
    print(f"{'case':34} {'decisions/s':>12} {'µs/decision':>12} {'naive/s':>10} {'speed-up':>9}")
    for label, policies, action, name in cases:
        arn = resource_arn(action, name)

        def ours_call(p: list[PolicyDocument] = policies, a: str = action, r: str = arn) -> object:
            return evaluate(p, a, r, context)

        def naive_call(p: list[PolicyDocument] = policies, a: str = action, r: str = arn) -> object:
            return naive_evaluate(p, a, r, variables)

        ours, naive = rate(ours_call, seconds), rate(naive_call, seconds)
        print(f"{label:34} {ours:12,.0f} {1e6 / ours:12.2f} {naive:10,.0f} {ours / naive:8.1f}x")
    arn = resource_arn(RECEIVE, f"chat/{IDENTITY}/response/{RID}")
    both = rate(lambda: evaluate_authenticated([user], [role], RECEIVE, arn, context), seconds)
    print(f"{'user+role Receive (intersection)':34} {both:12,.0f} {1e6 / both:12.2f} {'':>10} {'':>9}")
    # What the broker pays per message: its per-connection Enforcer caches decisions per (action, resource).
    enforcer = Enforcer(PolicyAuthority(IDENTITY, (user,), context), IDENTITY)
    topic = f"chat/{IDENTITY}/response/{RID}"
    cached = rate(lambda: enforcer.allowed(RECEIVE, topic), seconds)
    print(f"{'broker Enforcer Receive (cached)':34} {cached:12,.0f} {1e6 / cached:12.2f} {'':>10} {'':>9}")
    print("A delivered message costs the broker a cached Publish check and a cached Receive check per")
    print("subscriber; compare with the broker's CPU per message in `python -m bench.broker`.")


if __name__ == "__main__":
    main()
