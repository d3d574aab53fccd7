"""`iotstream logs`: what the running local stack did, one line per event — CONNECT, SUBSCRIBE, PUBLISH, RULE,
ACTION, INVOKE, FUNCTION_LOG, FUNCTION_ERROR, DENIED, ... (docs/localcore.md, "Seeing what happens").

    iotstream logs                 # the last 100 events
    iotstream logs -f              # then every new one as it happens, until Ctrl-C or the stack stops
    iotstream logs -f --kind PUBLISH --kind RULE --json

Read from `GET /_localcore/events`, signed with the local admin's key from the ready file.
"""

from __future__ import annotations

import argparse
import json
import sys

from clients.cli.local_stack import add_ready_file_argument, local_stack
from clients.cli.signed_in import fail
from clients.errors import IotstreamClientError
from localcore.observe import format_event


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__
    add_ready_file_argument(parser)
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new events as they happen")
    parser.add_argument(
        "-n", "--lines", type=int, default=100, help="how many past events first (default 100)"
    )
    parser.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="KIND",
        help="only these kinds (repeatable), e.g. PUBLISH",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per event")


def run(args: argparse.Namespace) -> int:
    params = {"recent": str(max(args.lines, 0)), "follow": "1" if args.follow else "0"}
    if args.kind:
        params["kinds"] = ",".join(args.kind)
    try:
        stack = local_stack(args.ready_file)
        for event in stack.stream("/_localcore/events", **params):
            print(json.dumps(event) if args.json else format_event(event), flush=True)
    except IotstreamClientError as error:
        return fail("logs", error)
    if args.follow:
        print("iotstream logs: the stack stopped", file=sys.stderr)
    return 0
