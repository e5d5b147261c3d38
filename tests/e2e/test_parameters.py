"""Parameters set in the browser's sidebar reach the endpoint exactly; an invalid one is explained and sends nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import APP_MODEL, RunningApp
from tests.e2e.ui import open_app, reply_text, send_message, wait_ready, wait_until
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e


def sidebar_section(page: Page, title: str) -> Locator:
    """A sidebar expander, opened."""
    expander = page.get_by_test_id("stSidebar").get_by_test_id("stExpander").filter(has_text=title)
    details = expander.locator("details")
    if details.get_attribute("open") is None:
        expander.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return expander


def set_number(page: Page, name: str, value: str) -> None:
    box = page.locator(f".st-key-setting_param_{name} input")
    box.fill(value)
    box.press("Enter")
    wait_ready(page)


def set_text(page: Page, name: str, value: str) -> None:
    box = page.locator(f".st-key-setting_param_{name} textarea")
    box.fill(value)
    box.press("Control+Enter")
    wait_ready(page)


def test_sidebar_parameters_are_sent_exactly(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    open_app(page, app.url)
    sidebar_section(page, "Sampling")
    set_number(page, "temperature", "0.7")
    sidebar_section(page, "Length and stop")
    set_number(page, "max_tokens", "64")
    set_text(page, "stop", "THE END")

    send_message(page, "Tell me a story")
    wait_until(lambda: reply_text(page) == "You said: Tell me a story", what="the reply")

    [body] = fake_openai.wait_for_requests(1)
    assert body == {
        "model": APP_MODEL,
        "messages": [{"role": "user", "content": "Tell me a story"}],
        "temperature": 0.7,
        "max_tokens": 64,
        "stop": ["THE END"],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_invalid_logit_bias_is_explained_and_not_sent(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    open_app(page, app.url)
    section = sidebar_section(page, "Penalties and bias")
    set_text(page, "logit_bias", '{"abc": 5}')
    expect(section.get_by_test_id("stAlert")).to_contain_text("key 'abc' is not a token id")

    page.get_by_test_id("stChatInputTextArea").fill("Will this be sent?")
    page.get_by_test_id("stChatInputSubmitButton").click()

    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stAlert")).to_contain_text("Not sent: logit_bias (in Penalties and bias) is not valid")
    expect(page.get_by_test_id("stChatInputTextArea")).to_have_value("Will this be sent?")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    assert fake_openai.chat_bodies == []
