"""The browser-page tests' helpers: real Chromium (clients/web/chromium.py), page objects for the chat and dashboard,
and ways to act on the stack under them (cut a connection, record prompts, make a dashboard user)."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from clients.config import ClientConfig
from clients.session import sign_up
from clients.web import STATIC_DIR, PagesNotBuiltError, check_built
from clients.web.chromium import ChromiumMissingError, launch_chromium
from localcore.broker.message import Message
from localcore.testing import RunningLocalcore

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
WEB = ROOT / "clients" / "web"
PASSWORD = "Passw0rd!-local"
TIMEOUT_MS = 20_000


def newer_sources() -> list[str]:
    """Page sources changed since the last build (the tests would run yesterday's pages)."""
    built = (STATIC_DIR / "assets" / "chat.js").stat().st_mtime
    sources = [*(WEB / "src").glob("*.ts"), *(WEB / "pages").glob("*"), WEB / "build.mjs"]
    return [str(path.relative_to(ROOT)) for path in sources if path.stat().st_mtime > built]


def launch_for_tests(playwright: Playwright) -> Browser:
    """Chromium, or a test failure that says how to install it or build the pages (never a silent skip)."""
    try:
        check_built()
        if newer := newer_sources():
            pytest.fail(
                f"the pages are older than {newer}: run `make web` (npm --prefix clients/web run build)"
            )
        browser: Browser = launch_chromium(playwright)
    except (ChromiumMissingError, PagesNotBuiltError) as error:
        pytest.fail(str(error))
    return browser


def new_username(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def register_dashboard_user(stack: RunningLocalcore) -> str:
    """A user in the pool's `dashboard` group (AdminAddUserToGroup needs the admin's IAM credentials: a user
    cannot promote themself, docs/security.md)."""
    config = ClientConfig.from_localcore(stack.endpoints)
    username = new_username("dash")
    sign_up(config, username, PASSWORD, f"{username}@example.com")
    stack.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=config.user_pool_id, Username=username, GroupName="dashboard"
    )
    return username


class PageErrors:
    """Uncaught exceptions in a page: any is a test failure."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))


class SignInPanel:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.error = page.locator("#signin-error")

    def fill(self, username: str, password: str = PASSWORD, email: str | None = None) -> None:
        self.page.fill("#signin-username", username)
        self.page.fill("#signin-password", password)
        if email is not None:
            self.page.fill("#signin-email", email)

    def create_account(self, username: str) -> None:
        self.fill(username, email=f"{username}@example.com")
        self.page.click("#signup-submit")

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.fill(username, password)
        self.page.click("#signin-submit")


class ChatPage:
    """The chat page at `/`."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.signin = SignInPanel(page)
        self.link_state = page.locator("#link-state")

    def wait_ready(self) -> None:
        expect(self.page.locator("#chat")).to_be_visible()
        expect(self.link_state).to_have_attribute("data-state", "connected")

    @property
    def identity_id(self) -> str:
        return self.page.locator("#who").get_attribute("data-identity") or ""

    def watch_answers(self) -> None:
        """Record every text the last answer shows (a MutationObserver), and every connection state."""
        self.page.evaluate(
            """() => {
              window.__texts = []; window.__states = [];
              new MutationObserver(() => {
                const text = document.querySelector("#transcript li.answer:last-child .text");
                if (text) window.__texts.push(text.textContent);
              }).observe(document.querySelector("#transcript"), {subtree: true, childList: true, characterData: true});
              const badge = document.querySelector("#link-state");
              new MutationObserver(() => window.__states.push(badge.dataset.state))
                .observe(badge, {attributes: true, attributeFilter: ["data-state"]});
            }"""
        )

    def shown_texts(self) -> list[str]:
        return list(self.page.evaluate("window.__texts"))

    def link_states(self) -> list[str]:
        return list(self.page.evaluate("window.__states"))

    def ask(self, text: str) -> Locator:
        self.page.fill("#prompt", text)
        self.page.click("#send")
        return self.page.locator("#transcript li.answer").last

    def stop(self, answer: Locator) -> Locator:
        """Click Stop once the answer streams; returns it once it ended as cancelled."""
        expect(answer).to_have_attribute("data-state", "streaming")
        self.page.click("#stop")
        expect(answer).to_have_attribute("data-stop", "cancelled")
        return answer

    def finished(self, answer: Locator) -> Locator:
        expect(answer).to_have_attribute("data-state", re.compile("done|error"))
        return answer


class DashboardPage:
    """The dashboard page at `/dashboard`."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.signin = SignInPanel(page)

    def wait_ready(self) -> None:
        expect(self.page.locator("#dashboard")).to_be_visible()
        expect(self.page.locator("#link-state")).to_have_attribute("data-state", "connected")

    def row(self, rid: str) -> Locator:
        return self.page.locator(f'#stream-rows tr[data-rid="{rid}"]')


@contextmanager
def screenshots_on_exit(pages: list[Page], name: str) -> Iterator[None]:
    """Every page the test opened, as PNG test artifacts (also when the test fails)."""
    try:
        yield
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for index, page in enumerate(pages):
            if not page.is_closed():
                page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)


def drop_connections(stack: RunningLocalcore, client_id_prefix: str) -> int:
    """Cut the broker side of every connection whose client id starts with the prefix, as a network failure
    would (no MQTT DISCONNECT); returns how many were cut."""

    def cut() -> int:
        victims = [
            c for c in stack.core.broker.connections if c.protocol.client_id.startswith(client_id_prefix)
        ]
        for connection in victims:
            connection.stream.abort()
        return len(victims)

    return stack.thread.call(cut)


class PromptRecorder:
    """Every prompt the broker accepts (a broker listener, as the rules engine is), to check what pages publish."""

    def __init__(self, stack: RunningLocalcore) -> None:
        self._lock = threading.Lock()
        self._prompts: list[tuple[str, bytes]] = []
        stack.thread.call(lambda: stack.core.broker.add_listener(self._record))

    def _record(self, message: Message) -> None:
        parts = message.topic.split("/")
        if len(parts) == 3 and parts[0] == "chat" and parts[2] == "prompt":
            with self._lock:
                self._prompts.append((parts[1], message.payload))

    def of(self, identity_id: str) -> list[dict[str, object]]:
        with self._lock:
            return [json.loads(payload) for identity, payload in self._prompts if identity == identity_id]
