"""A signed-in user's chat connection, synchronous (`Client`) or asyncio (`AsyncClient`).

One MQTT 5 connection over SigV4 WebSockets per client, subscribed to `chat/{identityId}/response/+`
before any prompt is sent (docs/protocol.md). The session is persistent (Clean Start on the first
connection only, session expiry `session_expiry_s`), so when the connection drops mid-answer the
transport reconnects, the broker delivers what it queued meanwhile, and the assembler puts the answer
back together by `seq` with nothing lost or repeated. The client id is `{identityId}-chat-<random>`:
the policies allow `{identityId}-*`, and two clients of one user must not take over each other's session.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, TypedDict

from clients.answers import DEFAULT_IDLE_TIMEOUT_S, Answer, AnswerState, AsyncAnswer
from clients.errors import PromptError
from clients.open_transport import open_transport
from clients.session import Session
from clients.transport import ConnectOptions, StatusHandler, TransportName
from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.wire import (
    PROTOCOL_VERSION,
    Params,
    Prompt,
    cancel_topic,
    encode_sendable_prompt,
    prompt_topic,
    response_filter,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack for **kwargs needs Python 3.12

DEFAULT_SESSION_EXPIRY_S = (
    600  # how long the broker keeps a dropped client's session (AWS: capped, 1 h default)
)
DEFAULT_TIMEOUT_S = 20.0  # CONNACK, SUBACK, PUBACK


class ClientOptions(TypedDict, total=False):
    """`Client`'s keyword options, which `AsyncClient` takes too."""

    transport: TransportName
    session_expiry_s: int
    idle_timeout: float
    timeout: float
    on_status: StatusHandler | None


def new_conversation_id() -> str:
    """A conversation id for `ask(..., conversation=...)`: the service keeps the turns of each one."""
    return f"c-{uuid.uuid4().hex[:16]}"


class Client:
    """`with Client(session) as chat: answer = chat.ask("…")` — see `clients` for the full example."""

    def __init__(
        self,
        session: Session,
        *,
        transport: TransportName = "mqtt5",
        session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_status: StatusHandler | None = None,
    ) -> None:
        self.session = session
        self.identity_id = session.identity_id
        self.client_id = session.client_id(f"chat-{secrets.token_hex(4)}")
        self.idle_timeout = idle_timeout
        self.timeout = timeout
        self._answers: dict[str, AnswerState] = {}
        self._lock = threading.Lock()
        self._transport = open_transport(
            transport, session, ConnectOptions(self.client_id, session_expiry_s), self._route, on_status
        )

    def connect(self) -> Client:
        """CONNECT (SigV4 WebSocket) and SUBSCRIBE to this user's response topics; raises on refusal."""
        self._transport.start(self.timeout)
        try:
            self._transport.subscribe(response_filter(self.identity_id), self.timeout)
        except BaseException:
            self._transport.stop()
            raise
        return self

    def close(self) -> None:
        self._transport.stop()

    def __enter__(self) -> Client:
        return self.connect()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def ask(
        self,
        text: str,
        conversation: str | None = None,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Answer:
        """Publish a prompt; the returned `Answer` yields the text as it streams in.

        Pass the same `conversation` id (e.g. `new_conversation_id()`) to continue a conversation.
        """
        rid = str(uuid.uuid4())
        answer = Answer(rid, conversation, lambda: self.cancel(rid), self.idle_timeout)
        self.send(answer, text, Params(max_tokens=max_tokens, temperature=temperature))
        return answer

    def send(self, answer: AnswerState, text: str, params: Params) -> None:
        """Publish the prompt of `answer` (already carrying its rid) and route its events to it."""
        prompt = Prompt(rid=answer.rid, text=text, conversation=answer.conversation, params=params)
        try:
            payload = encode_sendable_prompt(prompt)
        except ProtocolError as error:
            raise PromptError(error.code, error.message) from None
        with self._lock:
            self._answers[answer.rid] = answer
        answer.mark_sent()
        try:
            self._transport.publish(prompt_topic(self.identity_id), payload, self.timeout)
        except BaseException:
            with self._lock:
                self._answers.pop(answer.rid, None)
            raise

    def cancel(self, rid: str) -> None:
        """Ask the service to stop answering `rid` (`chat/{id}/cancel`); its stream ends with `cancelled`."""
        body = json.dumps({"v": PROTOCOL_VERSION, "rid": rid}).encode()
        self._transport.publish(cancel_topic(self.identity_id), body, self.timeout)

    def _route(self, topic: str, payload: bytes) -> None:
        rid = topic.rsplit("/", 1)[-1]
        with self._lock:
            answer = self._answers.get(rid)
        if answer is None:
            return  # a late duplicate of a finished answer, or another client's request
        answer.deliver(payload)
        if answer.done:
            with self._lock:
                self._answers.pop(rid, None)


class AsyncClient:
    """`async with AsyncClient(session) as chat: answer = await chat.ask("…")` (aiomqtt's shape).

    The MQTT work runs on the transport's own thread; answers are read with `async for`.
    """

    def __init__(self, session: Session, **options: Unpack[ClientOptions]) -> None:
        """The options of `Client`."""
        self._client = Client(session, **options)
        self.session = session
        self.identity_id = session.identity_id

    async def __aenter__(self) -> AsyncClient:
        await asyncio.to_thread(self._client.connect)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self._client.close)

    async def ask(
        self,
        text: str,
        conversation: str | None = None,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncAnswer:
        rid = str(uuid.uuid4())
        client = self._client
        answer = AsyncAnswer(rid, conversation, lambda: client.cancel(rid), client.idle_timeout)
        params = Params(max_tokens=max_tokens, temperature=temperature)
        await asyncio.to_thread(client.send, answer, text, params)
        return answer

    async def cancel(self, rid: str) -> None:
        await asyncio.to_thread(self._client.cancel, rid)
