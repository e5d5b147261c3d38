"""Moving around in the browser: Back goes to the conversation before, and the Chat link returns to the open one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.test_settings import go_to
from tests.e2e.ui import conversation_id, open_app, reply_text, send_message, user_bubbles, wait_ready, wait_until
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e


def shows(page: Page, conversation: str, first_message: str) -> None:
    expect(page).to_have_url(re.compile(rf"[?&]c={conversation}(&|$)"))
    wait_ready(page)
    expect(user_bubbles(page).first).to_contain_text(first_message)


def test_back_returns_to_the_previous_conversation_and_chat_to_the_open_one(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    open_app(page, app.url)
    send_message(page, "Alpha question")
    wait_until(lambda: reply_text(page) == "You said: Alpha question", what="the first reply")
    wait_ready(page)
    alpha = conversation_id(page)
    page.locator(".st-key-new_chat button").click()
    expect(user_bubbles(page)).to_have_count(0)
    wait_ready(page)
    send_message(page, "Beta question")
    wait_until(lambda: reply_text(page) == "You said: Beta question", what="the second reply")
    wait_ready(page)
    beta = conversation_id(page)

    page.locator(f".st-key-open_{alpha} button").click()
    shows(page, alpha, "Alpha question")
    page.go_back()
    shows(page, beta, "Beta question")

    go_to(page, "Endpoints")
    page.get_by_test_id("stTopNavLink").filter(has_text="Chat").click()
    shows(page, beta, "Beta question")
