"""`iotstream policy`: would this identity be allowed this action, and which statement decided?

    iotstream policy check --policy user --identity ID --action iot:Subscribe --resource chat/ID/response/+
    iotstream policy check --policy user --role role-authenticated --identity ID --action Publish \\
        --resource chat/ID/prompt
    iotstream policy validate my-policy.json [more.json ...]
    iotstream policy list

Exit status: 0 allowed (or all valid), 1 denied, 2 bad input (a policy document's error names its place).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from iot_policies.arns import (
    ACTION_RESOURCES,
    CONNECT,
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    check_arn,
    resource_arn,
)
from iot_policies.document import MAX_POLICY_CHARS, PolicyDocument, parse_policy
from iot_policies.errors import PolicyDocumentError, PolicyError
from iot_policies.evaluator import (
    CLIENT_ID,
    COGNITO_SUB,
    Decision,
    RequestContext,
    evaluate,
    evaluate_authenticated,
)
from iot_policies.library import SHIPPED_POLICIES, load_shipped

EXIT_ALLOWED = 0
EXIT_DENIED = 1
EXIT_BAD_INPUT = 2

_CANONICAL_ACTIONS = {name.split(":", 1)[1].lower(): name for name in ACTION_RESOURCES}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__
    sub = parser.add_subparsers(dest="policy_command", metavar="{check,validate,list}")
    check = sub.add_parser("check", help="decide one request against IoT (and role) policies")
    check.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="NAME",
        help=f"a shipped IoT policy ({', '.join(SHIPPED_POLICIES)}); repeatable",
    )
    check.add_argument(
        "--policy-file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="an IoT policy document (JSON); repeatable",
    )
    check.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="NAME|FILE",
        help="the identity pool role's IAM policy (shipped name or file): the decision is then the "
        "intersection for an authenticated Cognito identity; repeatable",
    )
    check.add_argument(
        "--unauthenticated",
        action="store_true",
        help="unauthenticated identity: only the --role policies are evaluated",
    )
    check.add_argument(
        "--identity",
        metavar="ID",
        help="Cognito identity id, e.g. us-east-1:6f1c... (${cognito-identity.amazonaws.com:sub})",
    )
    check.add_argument(
        "--client-id",
        metavar="C",
        help="MQTT client id (${iot:ClientId}); default: the resource for iot:Connect, else the identity",
    )
    check.add_argument("--action", required=True, help="e.g. iot:Publish (the iot: prefix may be left out)")
    check.add_argument(
        "--resource",
        required=True,
        help="client id, topic or topic filter (turned into the action's ARN), or a full ARN",
    )
    check.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another request-context value, e.g. iot:Connection.Thing.ThingName=dev1; repeatable",
    )
    check.add_argument("--source-ip", help="client IP address (aws:SourceIp)")
    check.add_argument("--region", default=DEFAULT_REGION)
    check.add_argument("--account", default=DEFAULT_ACCOUNT)
    validate = sub.add_parser("validate", help="parse and validate policy documents")
    validate.add_argument(
        "files", nargs="+", metavar="FILE", help="policy JSON files (or shipped policy names)"
    )
    sub.add_parser("list", help="list the shipped policies")


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "policy_command", None)
    if command == "check":
        return _check(args)
    if command == "validate":
        return _validate(args.files)
    if command == "list":
        for name, purpose in SHIPPED_POLICIES.items():
            print(f"{name:20} {purpose}")
        return EXIT_ALLOWED
    print("usage: iotstream policy {check,validate,list} ... (see iotstream policy --help)", file=sys.stderr)
    return EXIT_BAD_INPUT


def canonical_action(action: str) -> str:
    """`subscribe` or `IOT:Subscribe` -> `iot:Subscribe`; other services' actions pass through."""
    service, _, name = action.rpartition(":")
    if service.lower() in ("", "iot") and name.lower() in _CANONICAL_ACTIONS:
        return _CANONICAL_ACTIONS[name.lower()]
    return action if service else f"iot:{action}"


def _load(spec: str | Path) -> PolicyDocument:
    """A shipped policy name, or a JSON file (named after its stem)."""
    if isinstance(spec, str) and spec in SHIPPED_POLICIES:
        return load_shipped(spec)
    path = Path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PolicyDocumentError(
            f"{path} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start}); "
            "save it as UTF-8",
            "(document)",
            path.stem,
        ) from None
    return parse_policy(text, name=path.stem)


def _context(args: argparse.Namespace, action: str) -> RequestContext:
    variables: dict[str, str] = {}
    for item in args.var:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--var expects KEY=VALUE, not {item!r}")
        variables[key] = value
    if args.identity:
        variables[COGNITO_SUB] = args.identity
    client_id = args.client_id
    if client_id is None:
        client_id = (
            args.resource if action == CONNECT and not args.resource.startswith("arn:") else args.identity
        )
    if client_id is not None:
        variables[CLIENT_ID] = client_id
    return RequestContext(variables=variables, source_ip=args.source_ip)


def _check(args: argparse.Namespace) -> int:
    action = canonical_action(args.action)
    try:
        iot = [_load(name) for name in args.policy] + [_load(path) for path in args.policy_file]
        roles = [_load(spec) for spec in args.role]
        if args.resource == "*" or args.resource.startswith("arn:"):
            arn = args.resource
            if arn != "*":
                check_arn(action, arn)
        else:
            arn = resource_arn(action, args.resource, args.region, args.account)
        context = _context(args, action)
    except (PolicyError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.unauthenticated:
        if not roles or iot:
            print(
                "error: --unauthenticated takes --role policies only (IoT policies do not apply)",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        decision = evaluate(roles, action, arn, context)
    elif roles:
        decision = evaluate_authenticated(iot, roles, action, arn, context)
    elif iot:
        decision = evaluate(iot, action, arn, context)
    else:
        print("error: give at least one --policy, --policy-file or --role", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_decision(decision, context, [*iot, *roles])
    return EXIT_ALLOWED if decision.allowed else EXIT_DENIED


# the option that gives each variable a value (any other: --var KEY=VALUE)
_VARIABLE_OPTIONS = {COGNITO_SUB.lower(): "--identity", CLIENT_ID.lower(): "--client-id"}


def _print_decision(decision: Decision, context: RequestContext, policies: Sequence[PolicyDocument]) -> None:
    print("ALLOWED" if decision.allowed else "DENIED")
    print(f"  action:   {decision.action}")
    print(f"  resource: {decision.resource}")
    print(f"  reason:   {decision.reason}")
    for key, value in context.variables.items():
        print(f"  context:  {key} = {value}")
    used = frozenset().union(*(policy.variable_keys for policy in policies))
    for key in sorted(used - context.lookup.keys()):
        option = _VARIABLE_OPTIONS.get(key, f"--var {key}=VALUE")
        print(f"  note:     ${{{key}}} has no value (give {option}): what uses it matches nothing")


def _validate(files: Sequence[str]) -> int:
    status = EXIT_ALLOWED
    for spec in files:
        try:
            policy = _load(spec)
        except (PolicyError, OSError) as error:
            print(f"INVALID {spec}: {error}")
            status = EXIT_BAD_INPUT
            continue
        print(
            f"OK      {spec}: {len(policy.statements)} statement(s), {policy.size}/{MAX_POLICY_CHARS} characters"
        )
    return status
