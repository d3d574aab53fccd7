"""`iotstream chat`: talk to the model over MQTT, interactively or from a script.

iotstream chat                         # interactive; Ctrl-C cancels an answer, Ctrl-D exits
iotstream chat -m "What is MQTT?"      # answer and exit (repeatable; lines on stdin work too)
iotstream chat --json -m "…"           # the wire events as JSON lines
iotstream chat --aws cdk-outputs.json --user alice
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType, TracebackType

from rich.console import Console
from rich.text import Text

from clients.answers import DEFAULT_IDLE_TIMEOUT_S, Answer
from clients.cli.chat_view import AnswerView, JsonView, PlainView, RichView
from clients.cli.signed_in import (
    EXIT_INTERRUPTED,
    add_target_arguments,
    fail,
    login_name,
    sign_in_from_args,
)
from clients.client import Client, new_conversation_id
from clients.errors import IotstreamClientError
from clients.targets import Target

HELP = """commands:
  /new     start a new conversation (the model forgets the earlier turns)
  /help    this list
  /quit    leave (also /exit, Ctrl-D, or Ctrl-C when no answer is streaming)
Ctrl-C while an answer streams cancels it; a second Ctrl-C leaves."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(
        parser, "user name (default $IOTSTREAM_USER, locally your login name; created locally on first use)"
    )
    parser.add_argument(
        "-m",
        "--message",
        action="append",
        metavar="TEXT",
        help="ask TEXT, print the answer and exit (repeatable; without it, lines on stdin when it is not a terminal)",
    )
    parser.add_argument("--json", action="store_true", help="print the wire events as JSON lines")
    parser.add_argument("--conversation", help="continue this conversation id (default: a new one)")
    parser.add_argument("--max-tokens", type=int, help="answer length cap (tokens)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT_S,
        help=f"give up an answer after this many seconds without a message (default {DEFAULT_IDLE_TIMEOUT_S:g})",
    )


def run(args: argparse.Namespace) -> int:
    scripted = _scripted_messages(args)
    view: AnswerView = JsonView() if args.json else RichView() if sys.stdout.isatty() else PlainView()
    target: Target | None = None
    try:
        target, session = sign_in_from_args(args, login_name(), dashboard=False, notice=view.notice)
        client = Client(
            session, transport=args.transport, idle_timeout=args.timeout, on_status=view.connection
        )
        with client as chat:
            conversation = args.conversation or new_conversation_id()
            if scripted is None:
                return _Conversation(chat, view, conversation, args.max_tokens).interact(target)
            for text in scripted:
                answer = ask_and_show(chat, view, text, conversation, args.max_tokens)
                if answer.error is not None:
                    return fail("chat", answer.error, target)
                if answer.stop == "cancelled":
                    return EXIT_INTERRUPTED
            return 0
    except IotstreamClientError as error:
        return fail("chat", error, target)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _scripted_messages(args: argparse.Namespace) -> list[str] | None:
    """--message texts, else the lines of stdin when it is not a terminal, else None (interactive)."""
    if args.message:
        return [text for text in args.message if text.strip()]
    if sys.stdin.isatty():
        return None
    return [line for line in sys.stdin.read().splitlines() if line.strip()]


class _Interrupts:
    """While an answer streams, SIGINT only counts: the first cancels the answer, the second leaves."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: object = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1

    def __enter__(self) -> _Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


def ask_and_show(
    chat: Client, view: AnswerView, text: str, conversation: str | None, max_tokens: int | None
) -> Answer:
    """Ask, show the answer as it streams; Ctrl-C cancels it (`chat/{id}/cancel`), a second one raises."""
    with _Interrupts() as interrupts:
        answer = chat.ask(text, conversation, max_tokens=max_tokens)
        view.begin(answer)
        cancelled = False
        try:
            while not answer.read_to_end:
                if interrupts.count >= 2:
                    raise KeyboardInterrupt
                if interrupts.count == 1 and not cancelled:
                    cancelled = True
                    view.cancelling(answer)
                    answer.cancel()
                event = answer.next_event(timeout=0.1)
                if event is not None:
                    view.event(answer, event)
        finally:
            view.finish(answer)
    return answer


class _Conversation:
    """The interactive loop: read a line, answer it or run a /command."""

    def __init__(self, chat: Client, view: AnswerView, conversation: str, max_tokens: int | None) -> None:
        self.chat = chat
        self.view = view
        self.conversation = conversation
        self.max_tokens = max_tokens
        self.console = view.console if isinstance(view, RichView) else Console(highlight=False)

    def interact(self, target: Target) -> int:
        where = f"the local stack ({target.source})" if target.local else f"AWS ({target.source})"
        self.console.print(
            Text(f"iotstream chat · {self.chat.session.username} on {where}", style="bold"),
            Text("/help for commands · Ctrl-C cancels an answer · Ctrl-D leaves", style="dim"),
            sep="\n",
        )
        while True:
            try:
                line = self.console.input("[bold cyan]you ›[/] ").strip()
            except EOFError:
                self.console.print()
                return 0
            except KeyboardInterrupt:
                self.console.print()
                return EXIT_INTERRUPTED
            if not line:
                continue
            if line.startswith("/"):
                if not self._command(line):
                    return 0
                continue
            try:
                ask_and_show(self.chat, self.view, line, self.conversation, self.max_tokens)
            except IotstreamClientError as error:  # e.g. a stalled answer: say so, keep the conversation
                self.console.print(Text(str(error), style="red"))

    def _command(self, line: str) -> bool:
        """Run a /command; False to leave."""
        name = line.split()[0].lower()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/new":
            self.conversation = new_conversation_id()
            self.console.print(Text(f"new conversation {self.conversation}", style="dim"))
        elif name in ("/help", "/?"):
            self.console.print(HELP, highlight=False, markup=False)
        else:
            self.console.print(Text(f"unknown command {name}; /help lists them", style="yellow"))
        return True
