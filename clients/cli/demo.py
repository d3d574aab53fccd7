"""`iotstream demo`: start localcore, ask the embedded model one question over MQTT, print the answer as it
streams, then a one-line summary. Finishes by itself."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from clients.chat_client import ChatClient
from clients.cli.up import STARTUP_ERRORS, add_stack_arguments, stack_config
from localcore.testing import RunningLocalcore
from streaming.wire import Delta, End, Error, Params, Start

DEFAULT_QUESTION = "Explain in two sentences why streaming an answer feels faster than waiting for all of it."


def configure(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    parser.set_defaults(mqtt_port=0, mqtts_port=None, ws_port=0, http_port=0)
    parser.add_argument("--question", default=DEFAULT_QUESTION, help="what to ask")
    parser.add_argument("--max-tokens", type=int, default=120, help="answer length cap (tokens)")


def connect_local_user(port: int, identity_id: str, timeout: float = 10.0) -> paho.Client:
    """A paho client in local mode (the MQTT username is the identity id), connected: CONNACK received."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=identity_id, protocol=paho.MQTTv5)
    client.username_pw_set(identity_id)
    connack: list[Any] = []
    connected = threading.Event()

    def on_connect(client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        connack.append(reason)
        connected.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not connected.wait(timeout) or connack[0].is_failure:
        client.loop_stop()
        raise ConnectionError(f"local-mode MQTT connect refused: {connack[0] if connack else 'no CONNACK'}")
    return client


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        config = stack_config(args)
    except STARTUP_ERRORS as error:
        print(f"iotstream demo: {error}", file=sys.stderr)
        return 2
    print(f"starting localcore (LLM provider: {args.llm}) ...", flush=True)
    with RunningLocalcore(dataclasses.replace(config, state_dir=args.state_dir)) as core:
        identity = f"{core.core.config.region}:{uuid.uuid4()}"
        client = connect_local_user(core.mqtt_port, identity)
        try:
            chat = ChatClient(client, identity, idle_timeout=120)
            chat.subscribe()
            print(f"user {identity} asks: {args.question}\n", flush=True)
            return _stream_answer(chat, args.question, args.max_tokens)
        finally:
            client.loop_stop()
            client.disconnect()


def _stream_answer(chat: ChatClient, question: str, max_tokens: int) -> int:
    asked = time.monotonic()
    first_token: float | None = None
    for received, event in enumerate(chat.ask(question, params=Params(max_tokens=max_tokens)), start=1):
        if isinstance(event, Start):
            print(f"[{event.model}] ", end="", flush=True)
        if isinstance(event, Start | Delta | End) and event.text:  # start/end may carry text too
            first_token = first_token or time.monotonic()
            print(event.text, end="", flush=True)
        if isinstance(event, Error):
            print(f"\nerror {event.code}: {event.message}", file=sys.stderr)
            return 1
        if isinstance(event, End):
            elapsed = time.monotonic() - (first_token or asked)
            tokens = event.usage.output_tokens or int(event.metrics.get("tokens", 0))
            ttft = (first_token or time.monotonic()) - asked
            print(
                f"\n\nstop={event.stop}  time to first token {ttft * 1000:.0f} ms  "
                f"{tokens / elapsed if elapsed > 0 else 0:.1f} tokens/s  "
                f"{tokens} tokens in {event.metrics.get('messages', received)} MQTT messages",
                flush=True,
            )
    return 0
