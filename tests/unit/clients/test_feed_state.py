"""What a dashboard makes of the feed. The feed's rule (docs/protocol.md "Dashboard feed"): per rid the update with
the highest `n` wins, `end`/`error` are final; AWS IoT may deliver QoS 1 messages twice and in any order
(https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, "Message ordering"), which must change nothing."""

from __future__ import annotations

from clients.cli.dashboard import render, sparkline
from clients.feed_state import KEEP_FINISHED, FeedState
from iotstream_lambdas.streaming.status import StreamStatus


def _status(rid: str, n: int, state: str = "streaming", tokens: int = 0, **extra) -> StreamStatus:
    return StreamStatus(
        rid=rid,
        identity="us-east-1:0f3c2d1e-aaaa-bbbb-cccc-000000000000",
        n=n,
        state=state,  # type: ignore[arg-type]
        model="scripted",
        started=1_000,
        ts=1_000 + n * 1_000,
        tokens=tokens,
        messages=n,
        **extra,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_duplicates_and_reordering_change_nothing() -> None:
    """A late lower `n` and a duplicate are not news; the final update counts once."""
    state = FeedState(Clock())
    assert state.accept(_status("a", 0, "started"))
    assert state.accept(_status("a", 2, tokens=20))
    assert not state.accept(_status("a", 1, tokens=10))  # older, arrived late
    assert not state.accept(_status("a", 2, tokens=20))  # duplicate
    assert state.accept(_status("a", 3, "end", tokens=30, stop="end_turn"))
    assert not state.accept(_status("a", 3, "end", tokens=30, stop="end_turn"))
    assert [s.n for s in state.streams] == [3]
    totals = state.totals()
    assert (totals.live, totals.completed, totals.errors, totals.tokens) == (0, 1, 0, 30)
    assert state.received == 6


def test_token_rate_counts_new_tokens_per_second_of_arrival() -> None:
    clock = Clock()
    state = FeedState(clock)
    state.accept(_status("a", 0, "started"))
    state.accept(_status("a", 1, tokens=40))
    clock.now += 1
    state.accept(_status("a", 2, tokens=100))
    state.accept(_status("b", 0, "error", code="rate_limited"))
    rate = state.token_rate(seconds=5)
    assert rate == [0, 0, 0, 40, 60]
    assert state.totals().errors == 1 and state.totals().completed == 1


def test_old_finished_streams_are_forgotten_but_their_tokens_still_count() -> None:
    state = FeedState(Clock())
    for index in range(KEEP_FINISHED + 5):
        state.accept(_status(f"r{index}", 0, "end", tokens=2, stop="end_turn"))
    assert len(state.streams) == KEEP_FINISHED
    assert state.totals().tokens == 2 * (KEEP_FINISHED + 5)
    assert state.totals().completed == KEEP_FINISHED + 5


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline([0, 0, 0]) == "▁▁▁"
    line = sparkline([0, 5, 10])
    assert line[0] == "▁" and line[-1] == "█" and len(line) == 3


def test_render_shows_short_ids_state_and_totals() -> None:
    from rich.console import Console

    state = FeedState(Clock())
    state.accept(
        _status("6f1c1b9e-3d1c-4c1e-9a55-0c1c7c7e2b10", 4, "end", tokens=150, stop="end_turn", ttft_ms=180.2)
    )
    console = Console(width=120, record=True)
    console.print(render(state.streams, state.totals(), state.token_rate()))
    text = console.export_text()
    assert "0f3c2d1e" in text and "6f1c1b9e" in text and "end_turn" in text and "180 ms" in text
    assert "finished 1" in text and "150 tokens" in text
