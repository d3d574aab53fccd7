"""One Chromium and one localcore (scripted LLM, pages served on its HTTP port) for the browser tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from clients.local_app import local_config
from clients.web import serve_pages
from localcore.functions import FunctionSettings
from localcore.testing import RunningLocalcore
from tests.support.browser_support import TIMEOUT_MS, PageErrors, launch_for_tests, screenshots_on_exit

# About 90 word tokens at 30 tokens/s: an answer streams for ~3 s, long enough to watch it grow and to stop it.
SCRIPT = (
    "Streaming over MQTT lets the page show each token as soon as the model writes it. "
    "The prompt Lambda reads the model in its own thread, coalesces a few tokens at a time, and publishes "
    "them on the response topic of this identity only. The broker delivers every message to the page, which "
    "puts the pieces back in order by their sequence numbers, drops duplicates, and shows the answer growing "
    "word by word until the end event arrives with the usage and timing of the whole stream. "
    "A stop button publishes on the cancel topic, and the answer ends within about one chunk."
)


@pytest.fixture(scope="package")
def script() -> str:
    return SCRIPT


@pytest.fixture(scope="package")
def web_stack() -> Iterator[RunningLocalcore]:
    functions = FunctionSettings(
        environment={"LLM_PROVIDER": "scripted", "SCRIPTED_TEXT": SCRIPT, "SCRIPTED_TOKENS_PER_S": "30"},
        retry_delays_seconds=(0.05, 0.05),
    )
    running = RunningLocalcore(local_config(functions=functions))
    serve_pages(running.core)
    with running:
        yield running


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Stopped when this folder's tests end (it is a package for that): while started, Playwright's sync API runs
    an event loop in this thread, which breaks `asyncio.run()` in later tests."""
    with sync_playwright() as playwright:
        browser = launch_for_tests(playwright)
        yield browser
        browser.close()


@pytest.fixture
def open_page(
    chromium: Browser, web_stack: RunningLocalcore, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """`open_page("/")`: a page of the package's stack (or of `base_url`) in its own browser context (own
    storage), screenshotted when the test ends; an uncaught exception in any page fails the test."""
    expect.set_options(timeout=TIMEOUT_MS)
    pages: list[Page] = []
    watchers: list[PageErrors] = []

    def open_(path: str, base_url: str | None = None) -> Page:
        context = chromium.new_context(viewport={"width": 1100, "height": 720})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watchers.append(PageErrors(page))
        page.goto((base_url or web_stack.url) + path)
        pages.append(page)
        return page

    with screenshots_on_exit(pages, request.node.name):
        yield open_
    errors = [error for watcher in watchers for error in watcher.errors]
    for page in pages:
        page.context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
