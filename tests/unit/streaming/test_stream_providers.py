"""LLM providers: OpenAI-compatible SSE streaming against a real local HTTP server, Bedrock
ConverseStream event mapping on the documented event shapes, the scripted model, and selection by env."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session
import botocore.validate
import pytest

from iotstream_lambdas.streaming.errors import ProviderError, StreamingError
from iotstream_lambdas.streaming.llm import provider_from_env
from iotstream_lambdas.streaming.llm.base import Chunk, Finish, GenerationParams, Message, TextChunk
from iotstream_lambdas.streaming.llm.bedrock import (
    BedrockProvider,
    build_converse_request,
    map_converse_events,
)
from iotstream_lambdas.streaming.llm.openai_compat import OpenAICompatibleProvider, iter_sse_data
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider
from iotstream_lambdas.streaming.wire import Usage

MESSAGES = [
    Message("system", "sys"),
    Message("user", "Q1"),
    Message("assistant", "A1"),
    Message("user", "Q2"),
]


def collect(chunks: Iterator[Chunk]) -> tuple[str, Finish]:
    items = list(chunks)
    assert isinstance(items[-1], Finish) and all(isinstance(c, TextChunk) for c in items[:-1])
    return "".join(c.text for c in items[:-1] if isinstance(c, TextChunk)), items[-1]


# --------------------------------------------------------------------------- OpenAI-compatible


class SseServer:
    """A tiny OpenAI-compatible `/v1/chat/completions` server that streams a prepared SSE body."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 200
        self.events: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((dict(self.headers), body))
                if self.path != "/v1/chat/completions" or server.status != 200:
                    self.send_response(404 if self.path != "/v1/chat/completions" else server.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for event in server.events:  # one write per event, like a streaming server
                    self.wfile.write(event.encode())
                    self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def stream_of(
        self, pieces: list[str], finish: str = "stop", usage: bool = True, done: bool = True
    ) -> None:
        def chunk(delta: dict[str, Any], reason: str | None = None) -> str:
            body = {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
            }
            return f"data: {json.dumps(body)}\n\n"

        self.events = [": keep-alive comment\n\n", chunk({"role": "assistant"})]
        self.events += [chunk({"content": p}) for p in pieces]
        self.events.append(chunk({}, finish))
        if usage:
            body = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": len(pieces)}}
            self.events.append(f"data: {json.dumps(body)}\n\n")
        if done:
            self.events.append("data: [DONE]\n\n")


@pytest.fixture
def sse_server() -> Iterator[SseServer]:
    server = SseServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_openai_provider_streams_sse_chunks(sse_server: SseServer) -> None:
    """Chat Completions streaming: `data:` events of chat.completion.chunk, usage last, `[DONE]` ends."""
    sse_server.stream_of(["Hel", "lo ", "wörld"])
    provider = OpenAICompatibleProvider(sse_server.base_url, "tiny", api_key="k")
    text, finish = collect(provider.stream(MESSAGES, GenerationParams(max_tokens=9, temperature=0.2)))
    assert text == "Hello wörld" and finish == Finish("end_turn", Usage(7, 3))
    headers, body = sse_server.requests[0]
    assert headers["Authorization"] == "Bearer k"
    assert body["stream"] is True and body["max_tokens"] == 9 and body["temperature"] == 0.2
    assert body["messages"][0] == {"role": "system", "content": "sys"} and len(body["messages"]) == 4


def test_openai_length_finish_maps_to_max_tokens(sse_server: SseServer) -> None:
    """finish_reason `length` is the wire protocol's `max_tokens`."""
    sse_server.stream_of(["a"], finish="length", usage=False)
    _, finish = collect(
        OpenAICompatibleProvider(sse_server.base_url, "m").stream(MESSAGES, GenerationParams())
    )
    assert finish.stop_reason == "max_tokens"


def test_openai_errors_become_safe_provider_errors(sse_server: SseServer) -> None:
    """HTTP errors, in-stream error objects and streams cut before `[DONE]` raise ProviderError."""
    provider = OpenAICompatibleProvider(sse_server.base_url, "m")
    sse_server.status = 429
    with pytest.raises(ProviderError, match="busy"):
        list(provider.stream(MESSAGES, GenerationParams()))
    sse_server.status = 200
    sse_server.events = ['data: {"error": {"message": "secret stack"}}\n\n']
    with pytest.raises(ProviderError) as caught:
        list(provider.stream(MESSAGES, GenerationParams()))
    assert "secret" not in caught.value.message
    sse_server.stream_of(["partial"], done=False)
    sse_server.events = sse_server.events[:3]  # connection closes mid-answer
    with pytest.raises(ProviderError, match="broke"):
        list(provider.stream(MESSAGES, GenerationParams()))
    unreachable = OpenAICompatibleProvider("http://127.0.0.1:9/v1", "m", timeout_s=2)
    with pytest.raises(ProviderError, match="reached"):
        list(unreachable.stream(MESSAGES, GenerationParams()))


def test_sse_parser_joins_multiline_data_and_skips_comments() -> None:
    """SSE (WHATWG HTML, server-sent events): `data:` lines join with newlines; `:` lines are comments."""
    lines = [b": c\n", b"data: a\n", b"data:b\r\n", b"\n", b"event: x\n", b"data: c\n"]
    assert list(iter_sse_data(lines)) == ["a\nb", "c"]


# --------------------------------------------------------------------------- Bedrock


def test_bedrock_request_separates_system_and_merges_turns() -> None:
    """Converse needs system prompts apart and alternating user/assistant messages."""
    messages = [*MESSAGES, Message("user", "again")]
    request = build_converse_request("model-x", messages, GenerationParams(max_tokens=5, temperature=0.1))
    assert request["modelId"] == "model-x" and request["system"] == [{"text": "sys"}]
    assert [m["role"] for m in request["messages"]] == ["user", "assistant", "user"]
    assert request["messages"][-1]["content"] == [{"text": "Q2"}, {"text": "again"}]
    assert request["inferenceConfig"] == {"maxTokens": 5, "temperature": 0.1}


def test_bedrock_request_for_the_default_profile_fits_the_converse_stream_shape() -> None:
    """The request with the deployed default (an inference profile id as `modelId`,
    geographic-cross-region-inference.html "Use ...") passes botocore's own ConverseStream input validation;
    a protocol temperature above Converse's 0-1 range (API_runtime_InferenceConfiguration) is sent as 1."""
    request = build_converse_request(
        "global.amazon.nova-2-lite-v1:0", MESSAGES, GenerationParams(max_tokens=64, temperature=1.8)
    )
    shape = (
        botocore.session.get_session().get_service_model("bedrock-runtime").operation_model("ConverseStream")
    )
    botocore.validate.validate_parameters(request, shape.input_shape)
    assert request["inferenceConfig"] == {"maxTokens": 64, "temperature": 1.0}


def converse_events(stop: str) -> list[dict[str, Any]]:
    return [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": " there"}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": stop}},
        {
            "metadata": {
                "usage": {"inputTokens": 11, "outputTokens": 2, "totalTokens": 13},
                "metrics": {"latencyMs": 5},
            }
        },
    ]


def test_bedrock_converse_events_map_to_chunks() -> None:
    """ConverseStream: contentBlockDelta text, messageStop stopReason, metadata usage (after messageStop)."""
    text, finish = collect(map_converse_events(converse_events("end_turn")))
    assert text == "Hi there" and finish == Finish("end_turn", Usage(11, 2))
    assert collect(map_converse_events(converse_events("max_tokens")))[1].stop_reason == "max_tokens"
    assert collect(map_converse_events(converse_events("stop_sequence")))[1].stop_reason == "end_turn"


def test_bedrock_stream_exception_event_raises() -> None:
    """A modelled stream exception (e.g. throttlingException) ends the answer with a safe ProviderError."""
    events = [*converse_events("end_turn")[:2], {"throttlingException": {"message": "Rate exceeded"}}]
    with pytest.raises(ProviderError, match="busy"):
        list(map_converse_events(events))


def test_bedrock_provider_uses_the_injected_client() -> None:
    """BedrockProvider calls converse_stream with the built request and closes the event stream."""

    class EventStream(list[dict[str, Any]]):
        closed = False

        def close(self) -> None:
            self.closed = True

    class Client:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []
            self.stream = EventStream(converse_events("end_turn"))

        def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(kwargs)
            return {"stream": self.stream}

    client = Client()
    text, _ = collect(BedrockProvider(client, "model-x").stream(MESSAGES, GenerationParams()))  # type: ignore[arg-type]
    assert text == "Hi there" and client.calls[0]["modelId"] == "model-x" and client.stream.closed


def test_bedrock_failures_become_provider_errors_with_safe_words() -> None:
    """A refused call (ClientError with AWS's code), an error event while streaming (ConverseStream's
    `throttlingException` and the like,
    https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html, which botocore
    raises as EventStreamError, a ClientError) and a transport failure (BotoCoreError) all end as
    `provider_error` without botocore's text; the event stream is closed either way."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "secret"}}, "ConverseStream")

    class BreakingStream:
        closed = False

        def __init__(self, error: Exception) -> None:
            self.error = error

        def __iter__(self) -> Iterator[dict[str, Any]]:
            yield {"contentBlockDelta": {"delta": {"text": "Hi"}}}
            raise self.error

        def close(self) -> None:
            self.closed = True

    class Client:
        def __init__(self, refuse: Exception | None = None, stream: BreakingStream | None = None) -> None:
            self.refuse, self.stream = refuse, stream

        def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
            if self.refuse is not None:
                raise self.refuse
            return {"stream": self.stream}

    def failure(client: Client) -> str:
        with pytest.raises(ProviderError) as raised:
            collect(BedrockProvider(client, "m").stream(MESSAGES, GenerationParams()))  # type: ignore[arg-type]
        assert raised.value.code == "provider_error" and "secret" not in raised.value.message
        return raised.value.message

    assert "busy" in failure(Client(refuse=throttled))
    assert "could not be reached" in failure(Client(refuse=EndpointConnectionError(endpoint_url="https://x")))
    broken = BreakingStream(throttled)
    assert "busy" in failure(Client(stream=broken)) and broken.closed
    dropped = BreakingStream(EndpointConnectionError(endpoint_url="https://x"))
    assert "connection to the model broke" in failure(Client(stream=dropped)) and dropped.closed


# --------------------------------------------------------------------------- scripted and selection


def test_scripted_provider_is_deterministic_and_can_fail() -> None:
    """The scripted model reproduces its text exactly, honours max_tokens, and fails on request."""
    delays: list[tuple[float, int]] = []
    model = ScriptedProvider(
        text="a b c d", ttft_s=0.5, tokens_per_s=10, sleep=lambda d, i: delays.append((d, i))
    )
    text, finish = collect(model.stream([Message("user", "x y")], GenerationParams()))
    assert text == "a b c d" and finish == Finish("end_turn", Usage(2, 4))
    assert delays == [(0.5, 0), (0.1, 1), (0.1, 2), (0.1, 3)]
    assert collect(model.stream([], GenerationParams(max_tokens=2)))[0] == "a b"
    with pytest.raises(ProviderError):
        list(
            ScriptedProvider(text="a b", fail_after=1, sleep=lambda d, i: None).stream([], GenerationParams())
        )


def test_scripted_provider_stalls_on_request() -> None:
    """A stall after n tokens adds its delay once, before token n (a hung model for timeout tests)."""
    delays: list[tuple[float, int]] = []
    model = ScriptedProvider(
        text="a b c", tokens_per_s=10, stall_after=2, stall_s=5, sleep=lambda d, i: delays.append((d, i))
    )
    assert collect(model.stream([], GenerationParams()))[0] == "a b c"
    assert delays == [(0.0, 0), (0.1, 1), (5.1, 2)]


def test_scripted_knobs_come_from_the_environment() -> None:
    """SCRIPTED_FAIL_AFTER, SCRIPTED_STALL_AFTER and SCRIPTED_STALL_MS configure the scripted model, so
    localcore tests can script failures through the functions' environment."""
    model = provider_from_env(
        {"SCRIPTED_FAIL_AFTER": "3", "SCRIPTED_STALL_AFTER": "2", "SCRIPTED_STALL_MS": "1500"}
    )
    assert isinstance(model, ScriptedProvider)
    assert (model.fail_after, model.stall_after, model.stall_s) == (3, 2, 1.5)
    plain = provider_from_env({})
    assert isinstance(plain, ScriptedProvider) and plain.fail_after is None and plain.stall_after is None


def test_provider_from_env_selects_by_llm_provider() -> None:
    """LLM_PROVIDER picks the provider; missing settings are a clear configuration error."""
    assert isinstance(provider_from_env({"LLM_PROVIDER": "scripted", "SCRIPTED_TEXT": "x"}), ScriptedProvider)
    openai = provider_from_env(
        {"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": "http://h/v1", "OPENAI_MODEL": "m"}
    )
    assert isinstance(openai, OpenAICompatibleProvider) and openai.model == "m"
    bedrock = provider_from_env({"LLM_PROVIDER": "bedrock", "BEDROCK_MODEL_ID": "b"}, bedrock_client=object())
    assert isinstance(bedrock, BedrockProvider) and bedrock.model == "b"
    for env in ({"LLM_PROVIDER": "nope"}, {"LLM_PROVIDER": "bedrock"}, {"LLM_PROVIDER": "openai"}):
        with pytest.raises(StreamingError):
            provider_from_env(env, bedrock_client=object())
