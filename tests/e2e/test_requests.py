"""What the endpoint receives from the browser's actions: valid requests, signed with the configured key."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import APP_KEY, APP_MODEL, RunningApp
from tests.e2e.ui import assert_signed_with, open_app, reply_text, send_message, wait_until
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e


def test_requests_are_valid_and_signed(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    open_app(page, app.url)
    send_message(page, "first question")
    wait_until(lambda: reply_text(page) == "You said: first question", what="the first reply")
    send_message(page, "second question")
    wait_until(lambda: reply_text(page) == "You said: second question", what="the second reply")

    bodies = fake_openai.wait_for_requests(2)
    assert len(bodies) == 2
    assert all(body["model"] == APP_MODEL and body.get("stream") is True for body in bodies)
    assert [(m["role"], m["content"]) for m in bodies[1]["messages"]] == [
        ("user", "first question"),
        ("assistant", "You said: first question"),
        ("user", "second question"),
    ]
    assert_signed_with(fake_openai, APP_KEY)
    # Schema errors in any chat body fail the test in the fake_openai fixture's teardown.
