"""Settings in the browser: they survive the other pages and the Back button, and a new chat starts clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.test_parameters import set_number, sidebar_section
from tests.e2e.ui import conversation_id, open_app, reply_text, send_message, wait_ready, wait_until
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e

SYSTEM_PROMPT = ".st-key-setting_system_prompt textarea"


def set_system_prompt(page: Page, text: str) -> None:
    box = page.locator(SYSTEM_PROMPT)
    box.fill(text)
    box.press("Control+Enter")
    wait_ready(page)


def go_to(page: Page, title: str) -> None:
    page.get_by_test_id("stTopNavLink").filter(has_text=title).click()
    expect(page.get_by_test_id("stHeading").filter(has_text=title).first).to_be_visible()
    wait_ready(page)


def test_settings_survive_other_pages_and_the_back_button(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    open_app(page, app.url)
    set_system_prompt(page, "Answer like a pirate.")
    sidebar_section(page, "Sampling")
    set_number(page, "temperature", "0.4")
    send_message(page, "Ahoy")
    wait_until(lambda: reply_text(page) == "You said: Ahoy", what="the first reply")
    wait_ready(page)
    chat = conversation_id(page)

    go_to(page, "Endpoints")
    go_to(page, "Import and export")
    page.go_back()
    page.go_back()
    expect(page).to_have_url(re.compile(rf"[?&]c={chat}(&|$)"))
    wait_ready(page)

    expect(page.locator(SYSTEM_PROMPT)).to_have_value("Answer like a pirate.")
    expect(page.locator(".st-key-setting_param_temperature input")).to_have_value("0.40")
    send_message(page, "Again")
    wait_until(lambda: reply_text(page) == "You said: Again", what="the second reply")
    body = fake_openai.wait_for_requests(2)[-1]
    assert body["temperature"] == 0.4
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}


def test_a_refused_message_stays_in_the_input_however_often_it_is_sent(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    open_app(page, app.url)
    sidebar_section(page, "Penalties and bias")
    box = page.locator(".st-key-setting_param_logit_bias textarea")
    box.fill('{"abc": 5}')
    box.press("Control+Enter")
    wait_ready(page)
    # The input comes back under another key after each refusal; now and then the browser still shows the old
    # one beside it (a known glitch, see the closing note of issue 11): the newest is the last.
    chat_input = page.get_by_test_id("stChatInputTextArea").last
    chat_input.fill("Will this be sent?")
    for attempt in range(3):
        chat_input.press("Enter")
        wait_ready(page)
        expect(page.get_by_test_id("stMain").get_by_test_id("stAlert")).to_contain_text("back in the input")
        expect(chat_input).to_have_value("Will this be sent?")
    assert fake_openai.chat_bodies == []


def test_a_refusal_names_the_field_and_opens_its_section(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    open_app(page, app.url)
    section = sidebar_section(page, "Length and stop")
    box = page.locator(".st-key-setting_param_stop textarea")
    box.fill("a\nb\nc\nd\ne")
    box.press("Control+Enter")
    wait_ready(page)
    expect(section.get_by_test_id("stAlert")).to_have_text("stop: at most 4 sequences are allowed (got 5).")
    section.locator("summary").click()  # the user closes the section and forgets about it
    expect(section.locator("details")).not_to_have_attribute("open", "")
    wait_ready(page)

    chat_input = page.get_by_test_id("stChatInputTextArea")
    chat_input.fill("Tell me a story")
    chat_input.press("Enter")
    wait_ready(page)
    expect(page.get_by_test_id("stMain").get_by_test_id("stAlert")).to_contain_text(
        "Not sent: stop (in Length and stop) is not valid"
    )
    expect(section.locator("details")).to_have_attribute("open", "")
    expect(section.get_by_test_id("stAlert")).to_be_visible()
    assert fake_openai.chat_bodies == []


def test_an_out_of_range_number_is_explained_under_its_field(app: RunningApp, page: Page) -> None:
    open_app(page, app.url)
    section = sidebar_section(page, "Sampling")
    set_number(page, "temperature", "3")
    expect(section.get_by_test_id("stAlert")).to_have_text("temperature: must be between 0 and 2.")
    set_number(page, "n", "0")
    expect(section.get_by_test_id("stAlert").filter(has_text="n:")).to_have_text("n: must be between 1 and 8.")


def test_settings_typed_in_a_new_chat_survive_a_reload(app: RunningApp, page: Page) -> None:
    open_app(page, app.url)
    set_system_prompt(page, "Answer like a pirate.")
    sidebar_section(page, "Sampling")
    set_number(page, "temperature", "0.4")

    page.reload()  # what the user does after "Something went wrong": a new session, empty
    wait_ready(page)
    expect(page.locator(SYSTEM_PROMPT)).to_have_value("Answer like a pirate.")
    expect(page.locator(".st-key-setting_param_temperature input")).to_have_value("0.40")
