"""How `iotstream chat` shows an answer: live in a terminal (rich), as plain text in a pipe, or as JSON lines.

The terminal view redraws the growing answer with a status line under it (time to first token, tokens/s,
messages) and renders it as Markdown once it is complete.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

from clients.answers import Answer
from iotstream_lambdas.streaming.wire import Event, event_text, event_to_json

CHARS_PER_TOKEN = 4  # the usual estimate, only for the live tokens/s before the `end` event counts them


class AnswerView(Protocol):
    def notice(self, line: str) -> None: ...

    def connection(self, status: str) -> None: ...

    def begin(self, answer: Answer) -> None: ...

    def event(self, answer: Answer, event: Event) -> None: ...

    def cancelling(self, answer: Answer) -> None: ...

    def finish(self, answer: Answer) -> None: ...


def status_line(answer: Answer, now: float | None = None) -> str:
    """`end_turn · first token 180 ms · 55.1 tokens/s · 42 tokens · 9 messages` (estimates marked ≈)."""
    now = time.monotonic() if now is None else now
    parts: list[str] = []
    if answer.done:
        error = answer.error
        parts.append(f"error {error.code}: {error.message}" if error else str(answer.stop))
    if answer.ttft_s is None:
        if not answer.done:
            parts.append(f"waiting for the first token … {now - answer.asked_at:.1f} s")
    else:
        parts.append(f"first token {answer.ttft_s * 1000:.0f} ms")
        rate = answer.tokens_per_s
        if rate is not None:
            parts.append(f"{rate:.1f} tokens/s · {answer.tokens} tokens")
        elif not answer.done and answer.first_text_at is not None and now > answer.first_text_at:
            estimate = len(answer.text) / CHARS_PER_TOKEN / (now - answer.first_text_at)
            parts.append(f"≈{estimate:.0f} tokens/s")
    parts.append(f"{answer.messages} messages")
    return " · ".join(parts)


class RichView:
    """A terminal: the answer grows in place; Markdown and the final status once it ends."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._live: Live | None = None
        self._cancelling = False
        self._final = False

    def notice(self, line: str) -> None:
        self.console.print(Text(line, style="dim"))

    def connection(self, status: str) -> None:
        if status != "connected":
            self.console.print(Text(f"· {status}", style="yellow"))

    def _render(self, answer: Answer, final: bool = False) -> Group:
        body = Markdown(answer.text) if final and answer.text else Text(answer.text)
        status = status_line(answer)
        if self._cancelling and not answer.done:
            status = "cancelling … · " + status
        style = "yellow" if answer.stop == "cancelled" else "red" if answer.error else "dim"
        return Group(body, Text(status, style=style))

    def begin(self, answer: Answer) -> None:
        self._cancelling = self._final = False
        self._live = Live(
            console=self.console,
            refresh_per_second=12,
            vertical_overflow="visible",
            get_renderable=lambda: self._render(answer, self._final),
        )
        self._live.start()

    def event(self, answer: Answer, event: Event) -> None:
        """Nothing to do: the live display redraws from the answer 12 times a second."""

    def cancelling(self, answer: Answer) -> None:
        self._cancelling = True

    def finish(self, answer: Answer) -> None:
        if self._live is not None:
            self._final = True
            self._live.stop()  # draws the final render (Markdown) once more
            self._live = None
        if answer.stop == "cancelled":
            self.console.print(Text("cancelled", style="bold yellow"))


class PlainView:
    """A pipe or file: the text as it arrives on stdout, the status line on stderr."""

    def notice(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def connection(self, status: str) -> None:
        if status != "connected":
            self.notice(f"· {status}")

    def begin(self, answer: Answer) -> None:
        pass

    def event(self, answer: Answer, event: Event) -> None:
        text = event_text(event)
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()

    def cancelling(self, answer: Answer) -> None:
        self.notice("cancelling …")

    def finish(self, answer: Answer) -> None:
        print(flush=True)
        if answer.error is None:  # an error is reported once, by the command's failure line
            self.notice(("cancelled · " if answer.stop == "cancelled" else "") + status_line(answer))


class JsonView(PlainView):
    """`--json`: every wire event as one JSON line on stdout, in `seq` order; everything else on stderr."""

    def event(self, answer: Answer, event: Event) -> None:
        print(json.dumps(event_to_json(event), ensure_ascii=False), flush=True)

    def finish(self, answer: Answer) -> None:
        pass
