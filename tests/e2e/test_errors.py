"""A failed reply is explained in plain words, keeps the user's message and offers Retry."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import APP_KEY, RunningApp
from tests.e2e.ui import RETRY_BUTTON, assistant_bubbles, open_app, reply_text, send_message, user_bubbles, wait_until
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e


def test_wrong_api_key_is_explained(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    fake_openai.api_key = "sk-the-key-the-endpoint-wants-9999"  # not the app's OPENAI_API_KEY
    open_app(page, app.url)

    send_message(page, "Are you there?")

    alert = assistant_bubbles(page).last.get_by_test_id("stAlert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("API key")
    expect(alert).to_contain_text("401")
    expect(user_bubbles(page)).to_contain_text("Are you there?")
    expect(page.locator(RETRY_BUTTON)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert APP_KEY not in page.content(), "the full API key is in the page"
    assert fake_openai.chat_bodies, "no chat request reached the endpoint"

    # Once the key is fixed, Retry gets the answer.
    fake_openai.api_key = APP_KEY
    page.locator(RETRY_BUTTON).click()
    wait_until(lambda: reply_text(page) == "You said: Are you there?", what="the retried reply")
    expect(page.get_by_test_id("stException")).to_have_count(0)
