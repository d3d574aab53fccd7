"""The interactive `iotstream chat` in a real pseudo-terminal (pexpect): Ctrl-C is the terminal's interrupt
character, so the process gets SIGINT exactly as from a keyboard.

Ctrl-C while an answer streams publishes `{"rid": …}` on `chat/{id}/cancel` and the stream ends with stop
`cancelled` (docs/protocol.md "Cancel"); a second Ctrl-C, Ctrl-C at the prompt, Ctrl-D or /quit leave.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect

from clients.targets import Target
from localcore.testing import RunningLocalcore
from tests.support.cli import cli_environment

Stack = tuple[RunningLocalcore, Target]
PROMPT = "you ›"


def _spawn(tmp_path: Path, target: Target, user: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "clients.cli", "chat", "--user", user],
        cwd=str(tmp_path),
        env=cli_environment(tmp_path, target.source) | {"TERM": "xterm-256color", "COLUMNS": "100"},
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 100),
    )


def test_ctrl_c_cancels_the_answer_then_commands_and_ctrl_d(slow: Stack, tmp_path: Path) -> None:
    """Ask; once text streams, Ctrl-C: "cancelled" and the prompt comes back (the process lives on); /new starts a
    new conversation, /help lists the commands, Ctrl-D leaves with status 0."""
    _, target = slow
    chat = _spawn(tmp_path, target, "terminal-user")
    try:
        chat.expect(PROMPT)
        chat.sendline("tell me everything")
        chat.expect("word3 ")  # the answer is streaming
        chat.sendintr()
        chat.expect("cancelled")
        chat.expect(PROMPT)
        chat.sendline("/new")
        chat.expect("new conversation c-")
        chat.expect(PROMPT)
        chat.sendline("/help")
        chat.expect("/quit")
        chat.expect(PROMPT)
        chat.sendeof()
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
    assert chat.exitstatus == 0, chat.before


def test_a_second_ctrl_c_leaves(slow: Stack, tmp_path: Path) -> None:
    """A second Ctrl-C after the one that cancelled leaves — while the cancel is still under way or back at the
    prompt — with status 130 (interrupted) and no traceback."""
    _, target = slow
    chat = _spawn(tmp_path, target, "terminal-user-2")
    try:
        chat.expect(PROMPT)
        chat.sendline("tell me everything")
        chat.expect("word3 ")
        chat.sendintr()
        chat.expect("cancel")  # "cancelling …" or already "cancelled": the first one was handled
        chat.sendintr()
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
    assert chat.exitstatus == 130
    assert "Traceback" not in (chat.before or "")
