"""`iotstream sub FILTER [FILTER ...]`: print every message of the filters as it arrives, until Ctrl-C.

    iotstream sub --as greenhouse-1 'greenhouse/greenhouse-1/+'
    iotstream sub --admin '#'                     # everything, AWS lifecycle events included: '$aws/events/#'
    iotstream sub --admin 'greenhouse/#' --count 5 --json

Each message is one line: `TOPIC PAYLOAD` (binary payloads as `<N bytes, base64 …>`), or with `--json`
`{"topic", "payload", "qos", "retain"}`. "subscribed to …" goes to stderr once the SUBACK came. A refused
filter (SUBACK 0x87 Not authorized) is one line on stderr, exit status 5. As AWS does, a retained message is
sent on subscribe only to a filter without wildcards that names its topic.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys

from clients.cli.mqtt_login import add_login_arguments, open_line
from clients.cli.signed_in import EXIT_FAILED, fail
from clients.errors import IotstreamClientError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__
    parser.add_argument("filters", nargs="+", metavar="FILTER")
    parser.add_argument("--qos", type=int, choices=(0, 1), default=1)
    parser.add_argument("-n", "--count", type=int, help="leave after this many messages")
    parser.add_argument("--json", action="store_true", help="one JSON object per message")
    add_login_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        line, client_id = open_line(args)
    except IotstreamClientError as error:
        return fail("sub", error)
    try:
        line.subscribe(args.filters, qos=args.qos)
        print(f"subscribed to {' '.join(args.filters)} as {client_id}", file=sys.stderr, flush=True)
        for received, message in enumerate(line.messages(), start=1):
            print(
                _format(message.topic, bytes(message.payload), message.qos, message.retain, args.json),
                flush=True,
            )
            if args.count is not None and received >= args.count:
                return 0
    except IotstreamClientError as error:
        return fail("sub", error)
    finally:
        line.close()
    print(f"iotstream sub: the broker closed the connection ({line.closed_reason})", file=sys.stderr)
    return EXIT_FAILED


def _format(topic: str, payload: bytes, qos: int, retain: bool, as_json: bool) -> str:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if as_json:
        body = text if text is not None else base64.b64encode(payload).decode()
        return json.dumps(
            {"topic": topic, "payload": body, "base64": text is None, "qos": qos, "retain": retain}
        )
    shown = (
        text if text is not None else f"<{len(payload)} bytes, base64 {base64.b64encode(payload).decode()}>"
    )
    return f"{topic} {shown}"
