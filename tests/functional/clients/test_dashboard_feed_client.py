"""Dashboards read the sharded feed (`dashboard/streams/{shard}`, docs/protocol.md "Dashboard feed"): every one of
them sees every stream, and several dashboards of the same user do not take over each other's connections.

AWS: fan-out — every subscriber of a topic receives its messages (https://docs.aws.amazon.com/iot/latest/developerguide/topics.html);
two connections cannot share a client id, the newer one wins
(https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, "MQTT client ID and connection"); the dashboard
group's users get the `iotstream-dashboard` policy through the attach-policy function.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from clients import AsyncDashboardFeed, Client, DashboardFeed
from clients.targets import Target
from iotstream_lambdas.streaming.status import StreamStatus, shard_of
from localcore.testing import RunningLocalcore
from tests.support.cli import new_user

Stack = tuple[RunningLocalcore, Target]
CHATS = 4


def _until_finished(feed: DashboardFeed, rids: set[str], timeout: float = 30) -> list[StreamStatus]:
    """Every update that was news, until each rid in `rids` has its final one."""
    seen: list[StreamStatus] = []
    deadline = time.monotonic() + timeout
    while {s.rid for s in seen if s.final} < rids and time.monotonic() < deadline:
        update = feed.next_update(timeout=0.5)
        if update is not None and update.rid in rids:
            seen.append(update)
    return seen


def test_three_dashboards_of_one_user_see_identical_feeds(fast: Stack) -> None:
    """Three dashboards (one dashboard user, 8 connections each with client ids `{id}-dash{k}-{instance}`) and
    four concurrent chats: each dashboard sees the same updates and the same final state of every stream, and
    each stream arrived on the connection of its shard, crc32(rid) % 8."""
    core, target = fast
    core.wait_lambdas_idle()
    watcher = new_user(target, dashboard=True)
    feeds = [DashboardFeed(watcher).connect() for _ in range(3)]
    try:
        client_ids = {client_id for feed in feeds for client_id in feed.client_ids}
        assert len(client_ids) == 3 * 8
        assert all(client_id.startswith(f"{watcher.identity_id}-dash") for client_id in client_ids)
        users = [new_user(target) for _ in range(CHATS)]

        def chat(session) -> tuple[str, int]:
            with Client(session) as client:
                answer = client.ask("what is on the dashboard?").wait()
            return answer.rid, int(answer.metrics["tokens"])

        with ThreadPoolExecutor(CHATS) as pool:
            answers = dict(pool.map(chat, users))
        views = [_until_finished(feed, set(answers)) for feed in feeds]
    finally:
        for feed in feeds:
            feed.close()
    finals = [{s.rid: s for s in view if s.final} for view in views]
    assert set(finals[0]) == set(answers)
    assert finals[0] == finals[1] == finals[2]
    assert [{(s.rid, s.n) for s in view} for view in views].count({(s.rid, s.n) for s in views[0]}) == 3
    for rid, tokens in answers.items():
        final = finals[0][rid]
        assert final.state == "end" and final.stop == "end_turn" and final.tokens == tokens
        assert final.identity in {u.identity_id for u in users}
        assert 0 <= shard_of(rid, 8) < 8


def test_async_dashboard_feed_sees_a_chat(fast: Stack) -> None:
    """The asyncio flavour: `async for status in feed` until the chat's final update."""
    core, target = fast
    core.wait_lambdas_idle()
    watcher, asker = new_user(target, dashboard=True), new_user(target)

    def ask(text: str) -> str:
        with Client(asker) as chat:
            return chat.ask(text).wait().rid

    async def scenario() -> StreamStatus:
        async with AsyncDashboardFeed(watcher) as feed:
            rid = await asyncio.to_thread(ask, "hi")
            async for status in feed:
                if status.rid == rid and status.final:
                    return status
        raise AssertionError("the feed ended")

    final = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert final.state == "end" and final.identity == asker.identity_id
