"""`iotstream web --aws cdk-outputs.json --out site/`: the browser pages plus their config.json, for a static host.

Locally `iotstream up` serves the pages itself; this command is for a deployed stack (docs/web.md, "Hosting on
AWS"): upload the folder to S3 + CloudFront (or any static host) and add its origin to `web_origins`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from clients.config import ClientConfig
from clients.errors import ClientConfigError
from clients.web.site import PagesNotBuiltError, config_from_client, write_site

AWS_OUTPUTS_ENV = "IOTSTREAM_AWS_OUTPUTS"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--aws",
        type=Path,
        default=os.environ.get(AWS_OUTPUTS_ENV),
        help=f"the `cdk deploy --outputs-file` JSON (default ${AWS_OUTPUTS_ENV})",
    )
    parser.add_argument("--stack", help="the stack's name in the outputs file (when it holds several)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the site into")


def run(args: argparse.Namespace) -> int:
    if args.aws is None:
        print(
            f"iotstream web: name the CDK outputs file: --aws cdk-outputs.json (or ${AWS_OUTPUTS_ENV})",
            file=sys.stderr,
        )
        return 2
    try:
        client = ClientConfig.from_cdk_outputs(Path(args.aws), args.stack)
        written = write_site(args.out, config_from_client(client))
    except (ClientConfigError, PagesNotBuiltError) as error:
        print(f"iotstream web: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"iotstream web: cannot write {args.out}: {error}", file=sys.stderr)
        return 1
    print(
        f"wrote {len(written)} files to {args.out} (pages for {client.region}, broker {client.websocket_endpoint})"
    )
    print(f"upload it to a static host, e.g.: aws s3 sync {args.out} s3://<bucket>/ --delete")
    print("then add the site's origin (https://<host>) to the stack's web_origins (docs/web.md)")
    return 0
