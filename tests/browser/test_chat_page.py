"""The chat page in real Chromium against localcore: sign-up and sign-in through Cognito's APIs (AWS SDK for
JavaScript v3), MQTT.js over a SigV4-presigned WebSocket, answers streamed token by token, Stop, plain-words errors,
reconnection after a network drop."""

from __future__ import annotations

import itertools
import re

from playwright.sync_api import expect

from tests.support.browser_support import ChatPage, PromptRecorder, drop_connections, new_username


def signed_up(open_page) -> ChatPage:
    chat = ChatPage(open_page("/"))
    chat.signin.create_account(new_username("web"))
    chat.wait_ready()
    return chat


def test_sign_up_then_sign_in_and_the_answer_grows_token_by_token(open_page, script):
    """Cognito SignUp (localcore auto-confirms) -> InitiateAuth -> GetId -> GetCredentialsForIdentity -> attach; the
    answer on chat/{id}/response/{rid} is shown as it streams: several intermediate texts, each a prefix of the next
    (docs/protocol.md: the answer is the concatenation of the events' text in seq order)."""
    first = ChatPage(open_page("/"))
    username = new_username("web")
    first.signin.create_account(username)
    first.wait_ready()
    chat = ChatPage(open_page("/"))  # a second tab: the same account signs in with its password
    chat.signin.sign_in(username)
    chat.wait_ready()
    assert chat.identity_id == first.identity_id and chat.identity_id.startswith("us-east-1:")

    chat.watch_answers()
    answer = chat.finished(chat.ask("How does streaming over MQTT work?"))
    expect(answer).to_have_attribute("data-stop", "end_turn")
    assert answer.locator(".text").text_content() == script
    growth = [text for text in dict.fromkeys(chat.shown_texts()) if text]
    intermediate = [text for text in growth if text != script]
    assert len(intermediate) >= 3, growth
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(growth))
    meta = answer.locator(".meta").text_content() or ""
    assert re.search(r"done · \d+ tokens · first token .+ tokens/s · \d+ messages", meta), meta
    assert float(answer.get_attribute("data-tokens-per-s") or 0) > 0


def test_stop_cancels_the_answer_in_flight(open_page, script):
    """Stop publishes {"v":1,"rid"} on chat/{id}/cancel; the stream ends with stop "cancelled" and keeps the text
    sent before the cancel (docs/protocol.md, "Cancel")."""
    chat = signed_up(open_page)
    answer = chat.stop(chat.ask("Tell me everything."))
    expect(answer.locator(".meta")).to_contain_text("stopped")
    text = answer.locator(".text").text_content() or ""
    assert text and script.startswith(text) and text != script
    expect(chat.page.locator("#stop")).to_be_hidden()
    expect(chat.page.locator("#send")).to_be_enabled()


def test_wrong_password_is_said_in_plain_words(open_page):
    """Cognito answers InitiateAuth with NotAuthorizedException for a wrong password
    (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html#API_InitiateAuth_Errors);
    the page says so and stays on the form."""
    chat = ChatPage(open_page("/"))
    username = new_username("web")
    chat.signin.create_account(username)
    chat.wait_ready()
    other = ChatPage(open_page("/"))
    other.signin.sign_in(username, "not-the-password-1A!")
    expect(other.signin.error).to_have_text("Wrong user name or password.")
    expect(other.page.locator("#chat")).to_be_hidden()


def test_service_error_event_is_shown_with_its_code(open_page):
    """A prompt over the service's text limit is answered with one `error` event, code text_too_long
    (docs/protocol.md, "Error codes"); the page shows it in words, with the code."""
    chat = signed_up(open_page)
    answer = chat.finished(chat.ask("x" * 17_000))
    expect(answer).to_have_attribute("data-state", "error")
    expect(answer).to_have_attribute("data-code", "text_too_long")
    expect(answer.locator(".meta")).to_contain_text("The question is too long")
    expect(answer.locator(".meta")).to_contain_text("(code text_too_long)")


def test_new_conversation_clears_the_transcript_and_changes_the_conversation_id(open_page, web_stack, script):
    """Each prompt carries the page's `conversation` id (docs/protocol.md, "Prompt": the service answers with that
    conversation's earlier turns); "New conversation" clears the page and sends a new id."""
    prompts = PromptRecorder(web_stack)
    chat = signed_up(open_page)
    for question in ("first question", "second question"):
        chat.stop(chat.ask(question))  # the answers themselves do not matter here
    chat.page.click("#new-conversation")
    expect(chat.page.locator("#transcript li")).to_have_count(0)
    answer = chat.finished(chat.ask("third question"))
    assert answer.locator(".text").text_content() == script
    sent = prompts.of(chat.identity_id)
    assert [p["text"] for p in sent] == ["first question", "second question", "third question"]
    first, second, third = (p["conversation"] for p in sent)
    assert first == second != third and re.fullmatch(r"[A-Za-z0-9_.:\-]{1,128}", third)


def test_page_reconnects_after_a_drop_and_the_answer_completes(open_page, web_stack, script):
    """A network drop mid-answer: the page reconnects with the same client id and its persistent session (MQTT 5
    Clean Start 0, session expiry), the broker delivers the QoS 1 messages queued meanwhile
    (https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-persistent-sessions), and the
    assembler puts the answer back together: nothing lost, nothing repeated."""
    chat = signed_up(open_page)
    chat.watch_answers()
    answer = chat.ask("Survive a drop.")
    expect(answer).to_have_attribute("data-state", "streaming")
    assert drop_connections(web_stack, f"{chat.identity_id}-chat-") == 1
    chat.finished(answer)
    expect(answer).to_have_attribute("data-stop", "end_turn")
    assert answer.locator(".text").text_content() == script
    assert "reconnecting" in chat.link_states()
    expect(chat.link_state).to_have_attribute("data-state", "connected")
