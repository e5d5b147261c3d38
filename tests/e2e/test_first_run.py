"""A new installation without OPENAI_BASE_URL: the user connects an endpoint in the browser and chats."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AppLauncher
from tests.e2e.ui import assert_signed_with, open_app, reply_text, send_message, wait_until
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e

KEY = "sk-first-run-secret-key-7777"


def test_first_run_form_connects_an_endpoint(
    launcher: AppLauncher, page: Page, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.api_key = KEY
    app = launcher.start(tmp_path / "data")  # no OPENAI_BASE_URL, empty database
    open_app(page, app.url)
    expect(page.get_by_text("Welcome to RelayChat")).to_be_visible()

    page.get_by_role("textbox", name="Base URL", exact=True).fill(f"http://127.0.0.1:{fake_openai.port}")  # written without /v1
    page.locator("input[aria-label='API key']").fill(KEY)
    page.get_by_role("button", name="Test connection").click()

    success = page.get_by_test_id("stAlert").filter(has_text="fake-gpt")
    expect(success).to_be_visible()
    expect(success).to_contain_text("fake-reasoner")
    assert "stAlertContentSuccess" in (success.inner_html() or ""), "the test result is not shown as a success"

    page.get_by_role("button", name="Save endpoint").click()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible()
    expect(page.get_by_text("Welcome to RelayChat")).to_have_count(0)
    open_app(page, page.url)  # settle: the page after saving is the chat

    send_message(page, "hello from the first run")
    wait_until(lambda: reply_text(page) == "You said: hello from the first run", what="the echo reply")
    assert KEY not in page.content(), "the full API key is in the chat page"
    assert_signed_with(fake_openai, KEY)

    open_app(page, app.url + "/endpoints")
    expect(page.get_by_text("Endpoints").first).to_be_visible()
    assert KEY not in page.content(), "the full API key is in the Endpoints page"
