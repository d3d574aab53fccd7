"""Entry point: `cdk synth` / `cdk deploy` run `python -m cdk.app` (see cdk.json and docs/deploy.md)."""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Environment

from cdk.config import DeployConfig
from cdk.stack import IotStreamStack
from clients.deployment import DEFAULT_STACK_NAME, DeploySourceError


def build_app(app: App | None = None) -> App:
    """The app with its one stack, configured from CDK context and the CLI's account/region."""
    app = app or App()
    config = DeployConfig.from_context(app.node.try_get_context)
    stack_name = str(app.node.try_get_context("stackName") or DEFAULT_STACK_NAME)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    IotStreamStack(
        app, stack_name, config=config, env=env, description="iotstream: LLM answers over AWS IoT Core"
    )
    return app


def main() -> None:
    """Synthesize; a bad setting or source file stops `cdk synth` with one line naming it, not a traceback."""
    try:
        build_app().synth()
    except DeploySourceError as error:
        print(f"iotstream: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
