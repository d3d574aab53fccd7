"""The dashboard page in real Chromium: one MQTT connection per feed shard (dashboard/streams/{k}), a live table of
every stream, refused to accounts outside the `dashboard` group."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser_support import ChatPage, DashboardPage, new_username, register_dashboard_user

LIVE = re.compile("started|streaming")


def test_two_dashboards_see_the_same_stream_live_and_finished(open_page, web_stack):
    """The feed (docs/protocol.md, "Dashboard feed"): the prompt service publishes a status per stream on
    dashboard/streams/{crc32(rid) % shards}; each dashboard page holds one connection per shard, so every page
    receives every stream (fan-out) without any connection nearing AWS IoT's 100 publishes/s
    (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits). Two pages of the same
    dashboard account (distinct client ids per tab) show the same stream while it runs and once it ended."""
    username = register_dashboard_user(web_stack)
    dashboards = [DashboardPage(open_page("/dashboard")) for _ in range(2)]
    for dashboard in dashboards:
        dashboard.signin.sign_in(username)
    for dashboard in dashboards:
        dashboard.wait_ready()
        expect(dashboard.page.locator('#totals dd[data-total="shards"]')).to_have_text(
            str(web_stack.endpoints["dashboard_shards"])
        )
    chat = ChatPage(open_page("/"))
    chat.signin.create_account(new_username("web"))
    chat.wait_ready()
    answer = chat.ask("Who is watching?")
    expect(answer).to_have_attribute("data-state", "streaming")
    rid = answer.get_attribute("data-rid") or ""
    for dashboard in dashboards:
        expect(dashboard.row(rid)).to_have_attribute("data-state", LIVE)
    chat.finished(answer)
    tokens = answer.get_attribute("data-tokens")
    rows = []
    for dashboard in dashboards:
        row = dashboard.row(rid)
        expect(row).to_have_attribute("data-state", "end")
        expect(row).to_have_attribute("data-tokens", tokens or "")
        rows.append(row.locator("td").all_text_contents()[:6])  # the age column ticks on
    assert rows[0] == rows[1]
    assert rows[0][1] == rid[:8] and rows[0][2] == "end_turn"


def test_a_normal_user_is_refused_in_plain_words(open_page):
    """The user policy (iot_policies/user.json) grants no subscription outside chat/{id}/; AWS IoT answers such an
    MQTT 5 SUBSCRIBE with reason 0x87 Not authorized (https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html,
    "MQTT 5 reason codes"). The page says why, names the group, and opens nothing."""
    chat = ChatPage(open_page("/"))
    username = new_username("web")
    chat.signin.create_account(username)
    chat.wait_ready()
    dashboard = DashboardPage(open_page("/dashboard"))
    dashboard.signin.sign_in(username)
    expect(dashboard.signin.error).to_contain_text("Cannot subscribe to dashboard/streams/")
    expect(dashboard.signin.error).to_contain_text("not allowed by your IoT policy")
    expect(dashboard.signin.error).to_contain_text('"dashboard" group')
    expect(dashboard.page.locator("#dashboard")).to_be_hidden()
