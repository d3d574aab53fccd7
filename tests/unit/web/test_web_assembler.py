"""The browser's stream assembler (clients/web/src/assembler.ts) follows the same delivery rules as
`lambdas/iotstream_lambdas/streaming/assembler.py`: order by seq, drop duplicates, report gaps, complete at the terminal event, give up
after an idle timeout. AWS IoT may reorder and duplicate QoS 1 messages
(https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, "Message ordering"), so both clients must.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.wire import Delta, End, Error, Start, Usage, encode_event

RID = "6f1c1b9e-3d1c-4c1e-9a55-0c1c7c7e2b10"
OTHER = "0b8e5d0c-1111-4222-8333-944455556666"

JS_FEED = """
return input.map((c) => {
  const a = new m.StreamAssembler(c.rid, 30, 0);
  const steps = c.payloads.map(([payload, now]) => a.feed(m.decodeEvent(payload), now).map((e) => e.seq));
  const timeout = a.checkIdle(c.idleAt);
  return {steps, text: a.text, done: a.done, missing: a.missing, stats: a.stats,
          timeout: timeout && {nextSeq: timeout.nextSeq, missing: timeout.missing}};
});
"""


def python_run(case: dict) -> dict:
    assembler = StreamAssembler(rid=case["rid"], idle_timeout=30)
    steps = [[e.seq for e in assembler.feed_payload(payload, now)] for payload, now in case["payloads"]]
    timeout = assembler.check_idle(case["idleAt"])
    stats = assembler.stats
    return {
        "steps": steps,
        "text": assembler.text,
        "done": assembler.done,
        "missing": assembler.missing,
        "stats": {
            "received": stats.received,
            "duplicates": stats.duplicates,
            "foreign": stats.foreign,
            "afterTerminal": stats.after_terminal,
        },
        "timeout": timeout and {"nextSeq": timeout.next_seq, "missing": timeout.missing},
    }


def stream(rid: str, texts: list[str], failed: bool) -> list[bytes]:
    events = [Start(rid=rid, seq=0, model="m", ts=1, text=texts[0] if texts else "")]
    events += [Delta(rid=rid, seq=i + 1, text=t) for i, t in enumerate(texts[1:])]
    seq = len(events)
    events.append(
        Error(rid=rid, seq=seq, code="provider_error", message="x")
        if failed
        else End(rid=rid, seq=seq, stop="end_turn", usage=Usage(1, len(texts)), text="!")
    )
    return [encode_event(e) for e in events]


@st.composite
def deliveries(draw: st.DrawFn) -> dict:
    texts = draw(st.lists(st.text(min_size=1, max_size=4), max_size=8))
    payloads = stream(RID, texts, draw(st.booleans()))
    foreign = stream(OTHER, ["x"], False)[:1]
    picked = draw(st.lists(st.sampled_from(payloads + foreign), max_size=len(payloads) * 2))
    order = draw(st.permutations(picked))
    times = sorted(draw(st.lists(st.floats(0, 40), min_size=len(order), max_size=len(order))))
    return {
        "rid": RID,
        "payloads": [[p.decode(), t] for p, t in zip(order, times, strict=True)],
        "idleAt": (times[-1] if times else 0) + draw(st.sampled_from([1.0, 31.0])),
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(deliveries(), min_size=20, max_size=20))
def test_browser_assembler_matches_python_on_reordered_duplicated_streams(js_module, cases):
    """docs/protocol.md delivery rules 1-6, on any order, duplicates and foreign rids: same releases, same text."""
    assert js_module("assembler", "wire").run(JS_FEED, cases) == [python_run(c) for c in cases]


MALFORMED = [
    "not json",
    "[]",
    json.dumps({"v": 2, "type": "delta", "rid": RID, "seq": 1, "text": "x"}),
    json.dumps({"v": 1, "type": "delta", "rid": RID, "seq": -1, "text": "x"}),
    json.dumps({"v": 1, "type": "delta", "rid": RID, "seq": 1}),
    json.dumps({"v": 1, "type": "nope", "rid": RID, "seq": 1}),
    json.dumps({"v": 1, "type": "start", "rid": RID, "seq": 0, "ts": 1}),
]


def test_browser_rejects_what_python_rejects(js_module):
    """Strict decoding (wire.decode_event): anything that is not a v1 event is refused, never half-read."""
    for payload in MALFORMED:
        try:
            StreamAssembler(rid=RID).feed_payload(payload, 0)
        except ProtocolError:
            pass
        else:
            raise AssertionError(f"python accepted {payload}")
    rejected = js_module("assembler", "wire").run(
        "return input.map((p) => { try { m.decodeEvent(p); return false; } catch (e) { return e.name; } });",
        MALFORMED,
    )
    assert rejected == ["ProtocolError"] * len(MALFORMED)
