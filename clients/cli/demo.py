"""`iotstream demo`: start localcore, sign a user in, ask the embedded model one question over MQTT and print the
answer as it streams — while a dashboard user watches the same stream on the dashboard feed — then a one-line
summary. Finishes by itself (`--stay` keeps the stack up for the browser page and `iotstream chat`)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
import time

from clients.accounts import sign_in_user
from clients.answers import Answer
from clients.cli.signed_in import fail
from clients.cli.up import STARTUP_ERRORS, add_stack_arguments, listen_failure, stack_config
from clients.client import Client
from clients.dashboard_feed import DashboardFeed
from clients.errors import IotstreamClientError
from clients.targets import Target, local_target
from clients.web import serve_pages
from iotstream_lambdas.streaming.status import StreamStatus, dashboard_topic, shard_of
from iotstream_lambdas.streaming.wire import Error, Start, event_text
from localcore.aio.listen import ListenError
from localcore.iam.private_files import write_private_json
from localcore.project import builtin_project
from localcore.testing import RunningLocalcore

DEFAULT_QUESTION = "Explain in two sentences why streaming an answer feels faster than waiting for all of it."
MODEL_WAIT_S = 300.0  # the first answer waits for the model to load


def configure(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.set_defaults(mqtt_port=0, mqtts_port=None, ws_port=0, wss_port=None, http_port=0)
    parser.add_argument("--question", default=DEFAULT_QUESTION, help="what to ask")
    parser.add_argument("--max-tokens", type=int, default=120, help="answer length cap (tokens)")
    parser.add_argument("--stay", action="store_true", help="keep the stack running afterwards, until Ctrl-C")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        project = builtin_project()
        config = stack_config(args, project, project.check())
    except STARTUP_ERRORS as error:
        print(f"iotstream demo: {error}", file=sys.stderr)
        return 2
    print(f"starting localcore (LLM provider: {args.llm}) ...", flush=True)
    running = RunningLocalcore(dataclasses.replace(config, state_dir=args.state_dir))
    serve_pages(running.core)  # the browser chat on the stack's HTTP port, as `iotstream up` serves it
    try:
        running.start()
    except ListenError as error:
        print(f"iotstream demo: {listen_failure(error)}", file=sys.stderr)
        return 1
    ready_file = args.state_dir / "ready.json"
    try:
        write_private_json(ready_file, running.endpoints)
        return _demo(local_target(ready_file), args)
    except IotstreamClientError as error:
        return fail("demo", error)
    finally:
        ready_file.unlink(missing_ok=True)
        running.stop()


def _demo(target: Target, args: argparse.Namespace) -> int:
    print(f"chat in your browser: {target.web_url}  (while the stack runs; --stay keeps it up)", flush=True)
    user = sign_in_user(target, "demo")
    watcher = sign_in_user(target, "demo-dashboard", dashboard=True)
    with DashboardFeed(watcher) as feed, Client(user, idle_timeout=MODEL_WAIT_S) as chat:
        print(f"user {user.identity_id} asks: {args.question}\n", flush=True)
        answer = chat.ask(args.question, max_tokens=args.max_tokens)
        if not _stream(answer):
            return 1
        print(f"\n\n{_dashboard_line(feed, answer.rid)}")
        print(_summary(answer), flush=True)
    if args.stay:
        print(f"stack running: {target.web_url} · iotstream chat --ready-file {target.source} · Ctrl-C stops")
        _wait_for_ctrl_c()
    return 0


def _stream(answer: Answer) -> bool:
    """Print the answer as it arrives, after a progress line while the model loads (it does on first use)."""
    tty = sys.stdout.isatty()
    waited = False
    while not answer.read_to_end:
        event = answer.next_event(timeout=0.25)
        if event is None:
            if answer.messages == 0 and (tty or not waited):
                line = "waiting for the model (it loads on first use) …"
                if tty:
                    print(f"\r{line} {time.monotonic() - answer.asked_at:.0f} s", end="", flush=True)
                else:
                    print(line, flush=True)
                waited = True
            continue
        if waited and tty and event.seq == 0:
            print("\r\x1b[2K", end="")  # clear the progress line
        if isinstance(event, Start):
            print(f"[{event.model}] ", end="", flush=True)
        if isinstance(event, Error):
            print(f"\nerror {event.code}: {event.message}", file=sys.stderr)
            return False
        print(event_text(event), end="", flush=True)
    return True


def _dashboard_line(feed: DashboardFeed, rid: str) -> str:
    """What the dashboard saw of this stream: its states, then the final numbers."""
    updates: list[StreamStatus] = [s for s in feed.state.streams if s.rid == rid]
    deadline = time.monotonic() + 5
    while not (updates and updates[-1].final) and time.monotonic() < deadline:
        update = feed.next_update(timeout=0.5)
        if update is not None and update.rid == rid:
            updates.append(update)
    if not updates:
        return "dashboard: saw nothing of this stream"
    final = updates[-1]
    rate = f" · {final.tokens_per_s:.1f} tokens/s" if final.tokens_per_s is not None else ""
    ttft = f" · first token {final.ttft_ms:.0f} ms" if final.ttft_ms is not None else ""
    topic = dashboard_topic(shard_of(rid, feed.shards))
    return (
        f"dashboard ({topic}): {final.state} · {final.tokens} tokens{rate}{ttft} · {final.messages} messages"
    )


def _summary(answer: Answer) -> str:
    tokens = answer.tokens
    ttft_ms = (answer.ttft_s or 0) * 1000
    rate = answer.tokens_per_s or 0
    return (
        f"stop={answer.stop}  time to first token {ttft_ms:.0f} ms  {rate:.1f} tokens/s  "
        f"{tokens} tokens in {answer.messages} MQTT messages"
    )


def _wait_for_ctrl_c() -> None:
    async def wait() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()

    asyncio.run(wait())
