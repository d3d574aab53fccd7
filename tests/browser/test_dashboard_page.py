"""The dashboard page in real Chromium: one MQTT connection per feed shard (dashboard/streams/{k}), a live table of
every stream, refused to accounts outside the `dashboard` group."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.browser_support import ChatPage, DashboardPage, new_username


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
