"""Wire protocol v1 (docs/protocol.md): strict prompt validation and event codec."""

from __future__ import annotations

import json
import uuid

import pytest

from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.wire import (
    INVALID_RID,
    Delta,
    End,
    Error,
    Event,
    Params,
    Prompt,
    Start,
    Usage,
    cancel_topic,
    decode_event,
    encode_event,
    encode_prompt,
    event_text,
    event_to_json,
    parse_cancel,
    parse_prompt,
    prompt_topic,
    response_filter,
    response_topic,
)

RID = "6f1c1b9e-3d1c-4c1e-9a55-0c1c7c7e2b10"


def test_valid_prompt_round_trips_and_ignores_rule_added_identity() -> None:
    """The rule `SELECT *, topic(2) AS identity_id` adds identity_id to the body; the prompt parser ignores it."""
    prompt = Prompt(
        rid=RID, text="héllo ✓", conversation="c-1", params=Params(max_tokens=32, temperature=0.5)
    )
    body = json.loads(encode_prompt(prompt))
    assert body == {
        "v": 1,
        "rid": RID,
        "text": "héllo ✓",
        "conversation": "c-1",
        "params": {"max_tokens": 32, "temperature": 0.5},
    }
    assert parse_prompt({**body, "identity_id": "us-east-1:abc"}) == prompt
    assert parse_prompt(encode_prompt(prompt)) == prompt
    assert parse_prompt(encode_prompt(prompt).decode()) == prompt


BAD_PROMPTS = [
    (b"not json", "invalid_json", None),
    (b"\xff\xfe{}", "invalid_utf8", None),
    (b"[1, 2]", "not_an_object", None),
    (b'"text"', "not_an_object", None),
    (json.dumps({"rid": RID, "text": "x"}).encode(), "missing_field", RID),
    (json.dumps({"v": 2, "rid": RID, "text": "x"}).encode(), "unsupported_version", RID),
    (json.dumps({"v": True, "rid": RID, "text": "x"}).encode(), "unsupported_version", RID),
    (json.dumps({"v": 1, "text": "x"}).encode(), "missing_field", None),
    (json.dumps({"v": 1, "rid": "chat/+/x", "text": "x"}).encode(), "invalid_rid", None),
    (json.dumps({"v": 1, "rid": 7, "text": "x"}).encode(), "invalid_rid", None),
    (
        json.dumps({"v": 1, "rid": RID + "\n", "text": "x"}).encode(),
        "invalid_rid",
        None,
    ),  # `$` matched before \n
    (json.dumps({"v": 1, "rid": RID}).encode(), "missing_field", RID),
    (json.dumps({"v": 1, "rid": RID, "text": ""}).encode(), "invalid_field", RID),
    (json.dumps({"v": 1, "rid": RID, "text": ["x"]}).encode(), "invalid_field", RID),
    (json.dumps({"v": 1, "rid": RID, "text": "x" * 200_000}).encode(), "text_too_long", RID),
    (json.dumps({"v": 1, "rid": RID, "text": "x", "conversation": "a/b"}).encode(), "invalid_field", RID),
    (json.dumps({"v": 1, "rid": RID, "text": "x", "conversation": "a\n"}).encode(), "invalid_field", RID),
    (json.dumps({"v": 1, "rid": RID, "text": "x", "params": []}).encode(), "invalid_field", RID),
    (
        json.dumps({"v": 1, "rid": RID, "text": "x", "params": {"max_tokens": 0}}).encode(),
        "invalid_field",
        RID,
    ),
    (json.dumps({"v": 1, "rid": RID, "text": "x", "params": {"top_k": 3}}).encode(), "invalid_field", RID),
    (
        json.dumps({"v": 1, "rid": RID, "text": "x", "params": {"temperature": 9}}).encode(),
        "invalid_field",
        RID,
    ),
    (b'{"v":1,"rid":"' + RID.encode() + b'","text":"\\ud800"}', "invalid_utf8", RID),
]


@pytest.mark.parametrize(("raw", "code", "rid"), BAD_PROMPTS)
def test_malformed_prompt_gets_a_coded_error(raw: bytes, code: str, rid: str | None) -> None:
    """Each malformed prompt raises one ProtocolError with a stable code, keeping the rid when usable."""
    with pytest.raises(ProtocolError) as caught:
        parse_prompt(raw)
    assert caught.value.code == code
    assert caught.value.rid == rid
    assert caught.value.message


def test_text_limit_is_configurable_and_counts_utf8_bytes() -> None:
    """The text limit counts UTF-8 bytes (an MQTT payload is bytes; AWS IoT caps it at 128 KB)."""
    text = "é" * 10  # 20 bytes
    assert parse_prompt({"v": 1, "rid": RID, "text": text}, max_text_bytes=20).text == text
    with pytest.raises(ProtocolError, match="20 bytes"):
        parse_prompt({"v": 1, "rid": RID, "text": text}, max_text_bytes=19)


def test_events_round_trip() -> None:
    """Every event type carries v, rid, seq and a type, and decodes to the same dataclass."""
    events: list[Event] = [
        Start(rid=RID, seq=0, model="m", ts=1_700_000_000_000),
        Delta(rid=RID, seq=1, text='quote " and ✓'),
        End(rid=RID, seq=2, stop="max_tokens", usage=Usage(3, 4), metrics={"messages": 2, "ttft_ms": 1.5}),
        Error(rid=INVALID_RID, seq=0, code="invalid_json", message="payload is not JSON"),
    ]
    for event in events:
        raw = encode_event(event)
        body = json.loads(raw)
        assert body["v"] == 1 and body["rid"] == event.rid and body["seq"] == event.seq
        assert decode_event(raw) == event


@pytest.mark.parametrize(
    "raw",
    [
        b"{}",
        b'{"v":1,"rid":"r","seq":0,"type":"nope"}',
        b'{"v":1,"rid":"r","seq":-1,"type":"delta","text":"x"}',
        b'{"v":1,"rid":"r","seq":true,"type":"delta","text":"x"}',
        b'{"v":1,"rid":"r","seq":1,"type":"end","stop":"exploded"}',
        b'{"v":1,"rid":"r","seq":1,"type":"delta"}',
    ],
)
def test_decode_event_rejects_non_events(raw: bytes) -> None:
    """Clients get a ProtocolError, never a crash, for a payload that is not a v1 event."""
    with pytest.raises(ProtocolError):
        decode_event(raw)


def test_topics() -> None:
    """Topics follow docs/protocol.md; a level with / + # would escape the user's topic tree and is refused."""
    rid = str(uuid.uuid4())
    assert prompt_topic("us-east-1:u") == "chat/us-east-1:u/prompt"
    assert cancel_topic("us-east-1:u") == "chat/us-east-1:u/cancel"
    assert response_topic("us-east-1:u", rid) == f"chat/us-east-1:u/response/{rid}"
    assert response_filter("u") == "chat/u/response/+"
    for bad in ("", "a/b", "+", "#"):
        with pytest.raises(ProtocolError):
            response_topic(bad, rid)


def test_cancel_request_parsing() -> None:
    """A cancel names a rid; v is optional; a missing or bad rid is a coded error."""
    assert parse_cancel({"rid": RID, "identity_id": "u"}).rid == RID
    assert parse_cancel(json.dumps({"v": 1, "rid": RID})).rid == RID
    for raw, code in ((b"{}", "missing_field"), (b'{"rid":"x"}', "invalid_rid"), (b"[]", "not_an_object")):
        with pytest.raises(ProtocolError) as caught:
            parse_cancel(raw)
        assert caught.value.code == code


def test_start_and_end_may_carry_text() -> None:
    """Protocol v1: `text` is optional on `start` and `end` (absent = empty, omitted when empty, so events
    without text encode exactly as before); `event_text` gives every event's share of the answer."""
    start = Start(rid=RID, seq=0, model="m", ts=1, text="Hello")
    end = End(rid=RID, seq=2, stop="end_turn", text=" world.")
    for event in (start, end):
        assert json.loads(encode_event(event))["text"] == event.text
        assert decode_event(encode_event(event)) == event
    assert "text" not in json.loads(encode_event(Start(rid=RID, seq=0, model="m", ts=1)))
    assert "text" not in json.loads(encode_event(End(rid=RID, seq=1, stop="end_turn")))
    error = Error(rid=RID, seq=3, code="c", message="m")
    assert [event_text(e) for e in (start, Delta(rid=RID, seq=1, text=","), end, error)] == [
        "Hello",
        ",",
        " world.",
        "",
    ]
    with pytest.raises(ProtocolError):
        decode_event(b'{"v":1,"rid":"r","seq":0,"type":"start","model":"m","ts":1,"text":5}')


def test_error_event_carries_retry_after_ms_only_when_set() -> None:
    """docs/protocol.md: `rate_limited` / `too_many_streams` errors carry an integer `retry_after_ms`; other
    errors leave the field out, and a non-integer value is not a v1 event."""
    limited = Error("r", 0, "rate_limited", "Too many prompts this minute.", 42_000)
    assert event_to_json(limited)["retry_after_ms"] == 42_000
    assert decode_event(encode_event(limited)) == limited
    plain = Error("r", 0, "provider_error", "busy")
    assert "retry_after_ms" not in event_to_json(plain)
    assert decode_event(encode_event(plain)).retry_after_ms is None
    bad = {**event_to_json(limited), "retry_after_ms": "soon"}
    with pytest.raises(ProtocolError, match="retry_after_ms"):
        decode_event(bad)
