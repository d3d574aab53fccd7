"""The confirmation-code step of sign-up, as on AWS: a user pool that does not auto-confirm answers SignUp with
UserConfirmed false and emails a code; the page asks for it, says a wrong code in plain words, and signs in after
ConfirmSignUp (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SignUp.html,
API_ConfirmSignUp.html: CodeMismatchException)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from clients.local_app import local_config
from clients.web import serve_pages
from localcore.testing import RunningLocalcore
from tests.support.browser_support import ChatPage, new_username


@pytest.fixture(scope="module")
def confirming_stack() -> Iterator[RunningLocalcore]:
    running = RunningLocalcore(local_config(auto_confirm=False))
    serve_pages(running.core)
    with running:
        yield running


def test_sign_up_asks_for_the_code_then_signs_in(open_page, confirming_stack):
    page = open_page("/", confirming_stack.url)
    chat = ChatPage(page)
    username = f"{new_username('web')}@example.com"  # AWS pools sign in with email addresses
    chat.signin.fill(username)  # no separate email: the user name is one
    page.click("#signup-submit")
    expect(page.locator("#confirm-form")).to_be_visible()
    page.fill("#confirm-code", "000000x")
    page.click("#confirm-submit")
    expect(chat.signin.error).to_have_text("That confirmation code is wrong.")
    pool = confirming_stack.endpoints["user_pool_id"]
    code = confirming_stack.core.identity.user_pools.confirmation_code(pool, username)
    assert code is not None
    page.fill("#confirm-code", code)
    page.click("#confirm-submit")
    chat.wait_ready()
