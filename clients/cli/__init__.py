"""The `iotstream` command: each subcommand lives in its own module and is imported on demand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Protocol

from localcore.version import installed_version

DEBUG_VARIABLE = "IOTSTREAM_DEBUG"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C

# subcommand name -> (module, one-line help). Each module defines `configure(parser)` and `run(args) -> int`.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "up": ("clients.cli.up", "start the whole local stack (localcore) in the foreground"),
    "demo": (
        "clients.cli.demo",
        "the main job: local stack, a user, a streamed answer from the embedded model",
    ),
    "policy": ("clients.cli.policy", "evaluate IoT policies: would this identity be allowed this action?"),
    "rules": ("clients.cli.rules", "evaluate a topic rule's SQL on a topic and payload"),
    "chat": ("clients.cli.chat", "terminal chat against the local stack or AWS"),
    "dashboard": ("clients.cli.dashboard", "live view of every stream (broadcast)"),
    "web": ("clients.cli.web", "write the browser pages and their config.json for a static host (AWS)"),
    "env": ("clients.cli.env", 'shell exports for the running local stack: eval "$(iotstream env)"'),
    "status": ("clients.cli.status", "the local stack now: connections, rules, functions, refusals"),
    "logs": ("clients.cli.logs", "what the local stack did, event by event (-f: as it happens)"),
    "pub": ("clients.cli.pub", "publish one message (local mode, a signed-in user, or the admin)"),
    "sub": ("clients.cli.sub", "print the messages of topic filters (--admin '#': everything)"),
}


class _Subcommand(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Subcommand | None:
    module_name, _ = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise
    return module  # a module with configure() and run(), checked structurally


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `only`, import just that subcommand (fast start-up)."""
    parser = argparse.ArgumentParser(prog="iotstream", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or only == name:
            module = _load(name)
            if module is not None:
                module.configure(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    only = args_list[0] if args_list and args_list[0] in SUBCOMMANDS else None
    parser = build_parser(only)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    module = _load(args.command)
    if module is None:
        print(f"iotstream {args.command}: not available in this version yet", file=sys.stderr)
        return 2
    return _run_guarded(module, args)


def _run_guarded(module: _Subcommand, args: argparse.Namespace) -> int:
    """The boundary between a subcommand and the user: whatever goes wrong ends as one line on stderr."""
    name = f"iotstream {args.command}"
    try:
        status = module.run(args)
        sys.stdout.flush()  # a closed pipe shows up here rather than at interpreter exit
        return status
    except BrokenPipeError:
        # The reader went away (`iotstream ... | head -1`): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit (Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # boundary: a bug must not reach the user as a traceback
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(
            f"{name}: unexpected error: {type(error).__name__}: {error} "
            f"(a bug; {DEBUG_VARIABLE}=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
