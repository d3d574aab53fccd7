"""The dashboard page's feed state (clients/web/src/feed.ts) keeps the contract of the dashboard feed
(docs/protocol.md, "Dashboard feed"): per rid the update with the highest `n` wins, `end`/`error` are final, a missed
update is healed by the next, anything that is not a v1 status message is ignored."""

from __future__ import annotations

import json

RID = "6f1c1b9e-3d1c-4c1e-9a55-0c1c7c7e2b10"
APPLY = """
const table = new m.FeedTable();
const applied = input.map((payload) => { const s = m.parseStatus(payload); return s === null ? null : table.apply(s); });
return {applied, rows: table.rows().map((r) => [r.rid, r.state, r.n, r.tokens]), totals: table.totals()};
"""


def status(n: int, state: str, tokens: int, rid: str = RID, **extra: object) -> str:
    body = {
        "v": 1,
        "type": "status",
        "rid": rid,
        "identity": "us-east-1:abc",
        "n": n,
        "state": state,
        "model": "scripted",
        "started": 1000,
        "ts": 1000 + n,
        "tokens": tokens,
        "messages": n + 1,
        **extra,
    }
    return json.dumps(body)


def test_highest_n_wins_and_final_states_are_final(js_module):
    """Updates may arrive out of order (AWS IoT does not order messages); the highest n is the current state."""
    result = js_module("feed").run(
        APPLY,
        [
            status(2, "streaming", 20),
            status(1, "streaming", 10),
            status(4, "end", 40, stop="end_turn"),
            status(3, "streaming", 30),
            status(5, "streaming", 99),
        ],
    )
    assert result["applied"] == [True, False, True, False, False]
    assert result["rows"] == [[RID, "end", 4, 40]]
    assert (
        result["totals"]["ended"] == 1 and result["totals"]["live"] == 0 and result["totals"]["updates"] == 5
    )


def test_missing_updates_heal_and_optional_metrics_stay_absent(js_module):
    """Every update carries the whole state, so n=0 then n=7 is enough; ttft_ms/tokens_per_s are absent until known."""
    other = "0b8e5d0c-1111-4222-8333-944455556666"
    result = js_module("feed").run(
        APPLY,
        [
            status(0, "started", 0),
            status(7, "streaming", 70, ttft_ms=12.5, tokens_per_s=50.0),
            status(0, "started", 0, rid=other),
            status(1, "error", 3, rid=other, code="provider_error"),
        ],
    )
    assert result["rows"] == [[RID, "streaming", 7, 70], [other, "error", 1, 3]]
    totals = result["totals"]
    assert (totals["live"], totals["errors"], totals["tokens"]) == (1, 1, 73)
    assert totals["tokensPerS"] == 50.0 and totals["ttftMs"] == 12.5


def test_anything_but_a_v1_status_is_ignored(js_module):
    """A dashboard reads the feed, never trusts it blindly: other versions, types and shapes change nothing."""
    bad = [
        "not json",
        json.dumps({"v": 2, "type": "status", "rid": RID}),
        json.dumps({"v": 1, "type": "delta", "rid": RID, "seq": 1, "text": "x"}),
        status(1, "exploded", 1),
        json.dumps({**json.loads(status(1, "streaming", 1)), "tokens": "many"}),
    ]
    result = js_module("feed").run(APPLY, bad)
    assert result["applied"] == [None] * len(bad) and result["rows"] == []
