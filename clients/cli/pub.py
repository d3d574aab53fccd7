"""`iotstream pub TOPIC [MESSAGE]`: publish one message to the running local stack and wait for its PUBACK.

    iotstream pub --as greenhouse-1 greenhouse/greenhouse-1/readings '{"temperature": 41}'
    iotstream pub --admin --retain config/site '{"mode": "eco"}'
    echo '{"t": 1}' | iotstream pub --as sensor-1 sensors/sensor-1/reading -

A refusal (PUBACK 0x87 Not authorized, ...) is one line on stderr, exit status 5; no stack: 4.
Who to connect as: see `clients/cli/mqtt_login.py` (--as, --user, --admin).
"""

from __future__ import annotations

import argparse
import sys

from clients.cli.mqtt_login import add_login_arguments, open_line
from clients.cli.signed_in import fail
from clients.errors import IotstreamClientError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__
    parser.add_argument("topic")
    parser.add_argument(
        "message", nargs="?", default="", help="the payload ('-': read stdin; default: empty)"
    )
    parser.add_argument(
        "--qos", type=int, choices=(0, 1), default=1, help="AWS IoT supports 0 and 1 (default 1)"
    )
    parser.add_argument("--retain", action="store_true", help="retained: new subscribers to the topic get it")
    add_login_arguments(parser)


def run(args: argparse.Namespace) -> int:
    payload = sys.stdin.buffer.read() if args.message == "-" else args.message.encode()
    try:
        line, client_id = open_line(args)
        try:
            line.publish(args.topic, payload, qos=args.qos, retain=args.retain)
        finally:
            line.close()
    except IotstreamClientError as error:
        return fail("pub", error)
    acknowledged = "PUBACK" if args.qos else "sent"
    print(f"published {len(payload)} bytes to {args.topic} as {client_id} ({acknowledged})", file=sys.stderr)
    return 0
