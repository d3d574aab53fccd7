"""`iotstream up`: run the whole local stack (localcore) in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from clients.cli.env import export_lines
from clients.cli.function_env import (
    PROVIDER_VARIABLE,
    add_env_arguments,
    check_prompt_settings,
    function_environment,
)
from clients.cli.outputs import cdk_outputs
from clients.local_app import IOTSTREAM
from clients.targets import READY_FILE_ENV, ready_file_path
from clients.web import serve_pages
from iot_policies.errors import PolicyError
from localcore.aio.listen import ListenError
from localcore.app import Application, Localcore, LocalcoreConfig
from localcore.broker.limits import BrokerLimits
from localcore.errors import LocalcoreError
from localcore.functions import FunctionSettings
from localcore.iam.private_files import write_private_json
from localcore.lambda_runtime import ConcurrencyConfig
from localcore.lambda_runtime.concurrency import PER_SOURCE_LIMIT
from localcore.observe import format_event
from localcore.project import Project, ProjectContents, builtin_project, find_project

LLM_PROVIDERS = ("local", "scripted", "openai", "bedrock")
PROMPT_FUNCTION = "prompt"
PORT_OPTIONS = {
    "mqtt": "--mqtt-port",
    "mqtts": "--mqtts-port",
    "ws": "--ws-port",
    "wss": "--wss-port",
    "http": "--http-port",
}
"""The option that sets each listener's port (localcore names its listeners in `ListenError`)."""


def add_stack_arguments(parser: argparse.ArgumentParser, default_llm: str = "local") -> None:
    """The options that shape a local stack (shared by `up` and `demo`)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--mqtt-port", type=int, default=1883, help="MQTT over TCP (0 = any free port)")
    parser.add_argument(
        "--mqtts-port", type=int, default=8883, help="MQTT over TLS with X.509 client certificates (devices)"
    )
    parser.add_argument("--ws-port", type=int, default=8080, help="MQTT over WebSockets on /mqtt (SigV4)")
    parser.add_argument(
        "--wss-port", type=int, default=8443, help="MQTT over WebSockets with TLS (the local CA), SigV4"
    )
    parser.add_argument("--http-port", type=int, default=4566, help="AWS APIs: cognito, iot, iot-data, URLs")
    parser.add_argument("--state-dir", type=Path, default=Path(".localcore"), help="local CA and state")
    parser.add_argument("--no-limits", action="store_true", help="switch AWS IoT's quotas off")
    parser.add_argument(
        "--no-local-mode", action="store_true", help="refuse plain MQTT (username = identity id) connections"
    )
    parser.add_argument(
        "--llm",
        choices=LLM_PROVIDERS,
        default=default_llm,
        help=f"the prompt Lambda's LLM (default {default_llm})",
    )
    add_env_arguments(parser)
    parser.add_argument(
        "--explain-refusals",
        action="store_true",
        help="development only: a refused SigV4 WebSocket upgrade says why in its HTTP 403 body "
        "(AWS never does; the reason is always in localcore's log)",
    )
    parser.add_argument(
        "--lambda-concurrency",
        type=_positive_int,
        default=ConcurrencyConfig().account_limit,
        help="Lambda invocations (worker processes) at once, all functions together (default: %(default)s, "
        "from this machine's memory and cores); throttled events queue",
    )
    parser.add_argument(
        "--lambda-per-source",
        type=_positive_int,
        default=PER_SOURCE_LIMIT,
        help="asynchronous invocations at once caused by one identity's publishes (default: %(default)s; "
        "localcore only, so one user's flood cannot take a laptop's cores from the others); the rest queue",
    )
    parser.add_argument(
        "--admin-mqtt",
        action="store_true",
        help="development only: accept the local admin key on the MQTT WebSocket (it may then take any "
        "client id and subscribe to #); refused by default",
    )
    parser.add_argument("--log-level", default="WARNING", help="Python logging level")


STARTUP_ERRORS = (LocalcoreError, PolicyError, ValueError)
"""What a bad project file or option raises while the stack is built (FunctionEnvError, a malformed rule or
policy, a bad functions manifest): reported in one line, never as a traceback."""


def listen_failure(error: ListenError) -> str:
    """One line naming the port, its listener and the option that changes it."""
    problem = "is taken" if error.port_taken else f"cannot be used ({error.reason})"
    line = f"port {error.port} ({error.listener}, {error.host}) {problem}"
    option = PORT_OPTIONS.get(error.listener)
    return f"{line}: choose another with {option} (0 = any free port)" if option else line


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return int(text)


def stack_config(args: argparse.Namespace, project: Project, contents: ProjectContents) -> LocalcoreConfig:
    """The stack serving `project` (checked: `contents`) as the options describe; FunctionEnvError when the
    functions' environment cannot work."""
    environment = function_environment(args.env, args.env_file or project.env_file)
    if PROMPT_FUNCTION in contents.functions:  # iotstream's chat: the LLM the prompt function streams from
        check_prompt_settings(args.llm, environment)
        environment[PROVIDER_VARIABLE] = args.llm
    return project.config(
        environment,
        host=args.host,
        mqtt_port=args.mqtt_port,
        mqtts_port=args.mqtts_port,
        ws_port=args.ws_port,
        wss_port=args.wss_port,
        http_port=args.http_port,
        state_dir=args.state_dir,
        local_mode=not args.no_local_mode,
        limits=BrokerLimits.unlimited() if args.no_limits else BrokerLimits(),
        functions=FunctionSettings(
            concurrency=ConcurrencyConfig(
                account_limit=args.lambda_concurrency, per_source_limit=args.lambda_per_source
            )
        ),
        explain_refusals=args.explain_refusals,
        admin_on_mqtt=args.admin_mqtt,
        persist=getattr(args, "persist", False),
        # iotstream's state table and clients' outputs only for iotstream's chat, not for another project
        application=IOTSTREAM if PROMPT_FUNCTION in contents.functions else Application(),
    )


def configure(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.add_argument(
        "--project",
        type=Path,
        metavar="DIR",
        help="serve your project: its iot_rules/, iot_policies/, functions.json (or what [tool.iotstream] of "
        "its pyproject.toml names); default: the project in this folder or above, else iotstream's own chat",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print every event line (CONNECT, SUBSCRIBE, PUBLISH, RULE, ACTION, INVOKE, DENIED, ...) as it "
        "happens; `iotstream logs -f` shows the same from another terminal",
    )
    parser.add_argument(
        "--persist",
        action="store_true",
        help="keep users, identities, policies and their attachments, rules and retained messages in "
        "<state-dir>/state.json across restarts (default: every start is empty)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        help="write every endpoint as JSON here once ready, for the clients "
        f"(default ${READY_FILE_ENV}, else <state-dir>/ready.json)",
    )
    parser.add_argument(
        "--cdk-outputs",
        type=Path,
        help="write the endpoints in the `cdk deploy --outputs-file` format here "
        "(default <state-dir>/cdk-outputs.json); clients read it like a real deployment's",
    )


def print_endpoints(endpoints: dict[str, Any], ready_file: Path) -> None:
    for name, value in endpoints.items():
        if name != "environment":
            print(f"  {name:24} {value}")
    print('point boto3 and iotstream at localcore (or: eval "$(iotstream env)"):')
    for line in export_lines(endpoints, ready_file):
        print(f"  {line}")
    print(f"browser pages: chat {endpoints['http']}/  dashboard {endpoints['http']}/dashboard")


def project_lines(project: Project, contents: ProjectContents) -> list[str]:
    """What `up` serves, from where."""
    source = f" ({project.settings_file.name} [tool.iotstream])" if project.settings_file else ""
    lines = [f"project {project.root}{source}"]
    for label, names in (
        ("rules", contents.rules),
        ("policies", contents.policies),
        ("functions", contents.functions),
    ):
        lines.append(f"  {label:24} {', '.join(names) or '(none)'}")
    return lines


async def serve(args: argparse.Namespace, config: LocalcoreConfig, summary: list[str]) -> None:
    """Start, announce the endpoints, wait for SIGINT/SIGTERM, stop cleanly (a failed start stops what it
    had started, and raises)."""
    core = Localcore(config)
    serve_pages(core)
    if args.verbose:
        core.events.listeners.append(lambda event: print(format_event(event.to_json()), flush=True))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    ready_file = ready_file_path(args.ready_file, default=args.state_dir / "ready.json")
    outputs = args.cdk_outputs or args.state_dir / "cdk-outputs.json"
    async with core:
        try:
            print("\n".join(summary))
            print_endpoints(core.endpoints, ready_file)
            write_private_json(ready_file, core.endpoints)  # it holds the admin secret: 0600
            print(f"  {'ready file':24} {ready_file}  (iotstream chat / dashboard read it)")
            if config.application is IOTSTREAM:  # iotstream's chat (stack_config): what its clients read
                write_private_json(outputs, cdk_outputs(core.endpoints))
                print(f"  {'CDK-format outputs':24} {outputs}")
            print("localcore ready (Ctrl-C stops)", flush=True)
            await stop.wait()
        finally:
            print("stopping localcore", flush=True)
            for path in (outputs, ready_file):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        project = find_project(args.project) or builtin_project()
        contents = project.check()
        config = stack_config(args, project, contents)
    except STARTUP_ERRORS as error:
        print(f"iotstream up: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(args, config, project_lines(project, contents)))
    except BrokenPipeError:
        raise  # nobody reads the output any more: the command line's boundary ends quietly
    except ListenError as error:
        print(f"iotstream up: {listen_failure(error)}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"iotstream up: cannot start: {error}", file=sys.stderr)
        return 1
    except STARTUP_ERRORS as error:
        print(f"iotstream up: cannot start: {error}", file=sys.stderr)
        return 1
    return 0
