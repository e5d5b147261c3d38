"""A server killed mid-reply: after a restart the partial reply is there, marked as interrupted."""

from __future__ import annotations

import os
import re
import signal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import APP_KEY, APP_MODEL, AppLauncher, RunningApp
from tests.e2e.ui import (
    STOP_BUTTON,
    assert_prefix,
    assistant_bubbles,
    conversation_id,
    open_app,
    reply_text,
    send_message,
    user_bubbles,
    wait_until,
    word_count,
    words,
)
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e

RATE = 5  # tokens per second
# The new server calls a "streaming" row dead once nothing saved it for services.generation.STALE_AFTER (15 s).
INTERRUPTED_WITHIN = 45.0


def test_killed_server_leaves_an_interrupted_partial_reply(
    app: RunningApp, launcher: AppLauncher, page: Page, fake_openai: FakeOpenAI
) -> None:
    full = words(200)
    fake_openai.enqueue(Reply(content=full, rate=RATE))  # 40 s: far from done when the server dies
    open_app(page, app.url)
    send_message(page, "Write a long essay")
    wait_until(lambda: word_count(reply_text(page)) >= 10, what="some of the reply")
    cid = conversation_id(page)

    os.kill(app.process.pid, signal.SIGKILL)
    app.process.wait(10)
    seen = reply_text(page)  # the browser keeps showing what it had; the dead server sends no more

    restarted = launcher.start(
        app.data_dir, OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY=APP_KEY, OPENAI_MODEL=APP_MODEL
    )
    open_app(page, f"{restarted.url}/?c={cid}", wait_idle=False)
    expect(user_bubbles(page)).to_contain_text("Write a long essay")
    assert_prefix(wait_until(lambda: reply_text(page), what="the saved part of the reply"), full, strict=True)

    alert = assistant_bubbles(page).last.get_by_test_id("stAlert")
    expect(alert).to_be_visible(timeout=INTERRUPTED_WITHIN * 1000)
    expect(alert).to_contain_text(re.compile(r"interrupted|server stopped", re.IGNORECASE))
    expect(page.locator(STOP_BUTTON)).to_have_count(0)
    saved = reply_text(page)
    assert_prefix(saved, full, strict=True)
    lost = word_count(seen) - word_count(saved)
    assert lost <= RATE * 1.5, f"{lost} words shown before the kill were not saved (more than ~1 s of text)"
