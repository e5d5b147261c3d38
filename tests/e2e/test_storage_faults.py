"""A message the database cannot store (issue 12) stays in the browser's chat input, with a notice saying it was
not saved; the user sends it again once the database is free. The lock is a real second SQLite connection holding
BEGIN IMMEDIATE on the app's database file for longer than the app's busy timeout (15 s), as a large import did."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.ui import open_app, reply_text, send_message, user_bubbles, wait_until
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e


def test_a_message_sent_while_the_database_is_locked_stays_in_the_input(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    open_app(page, app.url)
    text = "Please do not lose me — 请不要丢掉我"
    box = page.get_by_test_id("stChatInputTextArea")
    other = sqlite3.connect(app.data_dir / "relaychat.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        box.fill(text)
        page.get_by_test_id("stChatInputSubmitButton").click()
        notice = page.get_by_test_id("stAlert").filter(has_text="Your message was not saved")
        expect(notice).to_be_visible(timeout=60_000)  # after the 15 s busy timeout
    finally:
        other.execute("ROLLBACK")
        other.close()

    expect(notice).to_contain_text("the database is busy")
    expect(notice).to_contain_text("back in the input")
    expect(box).to_have_value(text)
    expect(user_bubbles(page)).to_have_count(0)
    expect(page.get_by_text("is saved")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert fake_openai.chat_bodies == []

    fake_openai.enqueue(Reply(content="Safe and sound."))
    page.get_by_test_id("stChatInputSubmitButton").click()
    expect(user_bubbles(page).filter(has_text="Please do not lose me")).to_be_visible()
    wait_until(lambda: reply_text(page) == "Safe and sound.", what="the reply to the message sent again")
    assert fake_openai.chat_bodies[-1]["messages"][-1]["content"] == text


def test_a_reply_past_the_size_cap_shows_its_start_and_says_why_it_stopped(
    launcher, page: Page, fake_openai: FakeOpenAI, tmp_path
) -> None:
    from tests.e2e.conftest import APP_KEY, APP_MODEL
    from tests.e2e.ui import assistant_bubbles

    fake_openai.api_key = APP_KEY
    app = launcher.start(tmp_path / "data", OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY=APP_KEY,
                         OPENAI_MODEL=APP_MODEL, RELAYCHAT_MAX_REPLY_MB="0.5")
    fake_openai.enqueue(Reply(content="The beginning survives. ", huge_line=50 * 1024 * 1024))  # one 50 MB line
    open_app(page, app.url)
    send_message(page, "Say a lot")

    alert = assistant_bubbles(page).last.get_by_test_id("stAlert")
    expect(alert).to_contain_text("Stopped: the reply passed 0.5 MB", timeout=30_000)
    expect(alert).to_contain_text("kept")
    assert reply_text(page).startswith("The beginning survives.")
    expect(page.get_by_test_id("stException")).to_have_count(0)
