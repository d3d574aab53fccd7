"""`iotstream status`: the running local stack now — connections (client id, identity, protocol,
subscriptions), rules with match and failure counts, function invocations and errors, recent refusals.

Read from `GET /_localcore/status`, signed with the local admin's key from the ready file (`--json` prints it
as is). Exit status 4 when no stack runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from clients.cli.local_stack import add_ready_file_argument, local_stack
from clients.cli.signed_in import fail
from clients.errors import IotstreamClientError
from localcore.observe import format_event


def configure(parser: argparse.ArgumentParser) -> None:
    add_ready_file_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the status document as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        stack = local_stack(args.ready_file)
        info = stack.get("/_localcore/info")
        status = stack.get("/_localcore/status")
    except IotstreamClientError as error:
        return fail("status", error)
    if args.json:
        print(json.dumps({"info": info, "status": status}, indent=2))
        return 0
    print(f"localcore {info['version']} · {info.get('project') or 'iotstream'} · {stack.http}")
    _table(
        f"connections ({len(status['connections'])})",
        ("CLIENT ID", "IDENTITY", "PROTOCOL", "SUBSCRIPTIONS"),
        [
            (
                c["client_id"],
                c["principal"],
                f"{c['protocol']}/{c['transport']}",
                ", ".join(c["subscriptions"]) or "-",
            )
            for c in status["connections"]
        ],
    )
    _table(
        "rules",
        ("RULE", "STATE", "MATCHED/SEEN", "ACTIONS", "FAILED", "ERROR ACTIONS", "FROM"),
        [
            (
                r["name"],
                "enabled" if r["enabled"] else "disabled",
                f"{r['matched']}/{r['evaluated']}",
                r["actions"],
                r["failures"],
                r["error_actions"],
                r["topic"],
            )
            for r in status["rules"]
        ],
    )
    _table(
        "functions",
        ("FUNCTION", "INVOCATIONS", "ERRORS", "TIMEOUTS", "THROTTLES", "COLD STARTS"),
        [
            (f["name"], f["invocations"], f["errors"], f["timeouts"], f["throttles"], f["cold_starts"])
            for f in status["functions"]
        ],
    )
    print(f"\nrecent refusals ({len(status['denials'])})")
    for denial in status["denials"]:
        print(f"  {format_event(denial)}")
    sessions = status["sessions"]["persistent_offline"]
    print(f"\nretained messages: {status['retained_messages']} · offline persistent sessions: {sessions}")
    return 0


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    print(f"\n{title}")
    if not rows:
        print("  (none)")
        return
    cells = [[str(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    for row in cells:
        print("  " + "  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[-1]]).rstrip())
