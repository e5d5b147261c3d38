"""Small helpers shared by the end-to-end tests: what a user does and sees, and what the endpoint received."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from tests.fake_openai import FakeOpenAI

T = TypeVar("T")

APP_READY = "[data-testid=stApp][data-test-connection-state=CONNECTED]"
SCRIPT_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
STREAMING_CURSOR = "▌"
STOP_BUTTON = ".st-key-stop_generation button"
RETRY_BUTTON = "[class*='st-key-retry_'] button"

# The reply's own text: markdown in the bubble, minus button labels, alerts, captions (stCaptionContainer) and
# elements left over from the previous script run (data-stale, shown faded until replaced).
_REPLY_TEXT_JS = """bubble => Array.from(bubble.querySelectorAll('[data-testid=stMarkdownContainer]'))
    .filter(e => !e.closest('[data-testid=stButton], [data-testid=stAlert], [data-testid=stExpander], [data-stale=true]'))
    .map(e => e.innerText).join('\\n')"""


def open_app(page: Page, url: str, *, wait_idle: bool = True) -> None:
    """Open `url`; wait for the websocket and, unless a reply is streaming (the script then keeps running), the
    end of the script run."""
    page.goto(url)
    wait_ready(page, wait_idle=wait_idle)


def wait_ready(page: Page, *, wait_idle: bool = True) -> None:
    from playwright.sync_api import expect

    expect(page.locator(APP_READY)).to_be_attached()
    if wait_idle:
        expect(page.locator(SCRIPT_IDLE)).to_be_attached()


def send_message(page: Page, text: str) -> None:
    """Type into the chat input and press send; returns once the message shows as the user's."""
    from playwright.sync_api import expect

    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    page.get_by_test_id("stChatInputSubmitButton").click()
    expect(user_bubbles(page).filter(has_text=text).last).to_be_visible()


def user_bubbles(page: Page) -> Locator:
    return page.get_by_test_id("stChatMessage").filter(has=page.get_by_test_id("stChatMessageAvatarUser"))


def assistant_bubbles(page: Page) -> Locator:
    return page.get_by_test_id("stChatMessage").filter(has=page.get_by_test_id("stChatMessageAvatarAssistant"))


def reply_text(page: Page) -> str:
    """The last assistant bubble's text as a user reads it (whitespace collapsed, streaming cursor dropped);
    "" while there is none."""
    bubbles = assistant_bubbles(page)
    try:
        if bubbles.count() == 0:
            return ""
        raw = bubbles.last.evaluate(_REPLY_TEXT_JS)
    except Exception:  # the bubble was replaced between count() and evaluate(): a rerun; ask again next poll
        return ""
    return normalize(raw)


def normalize(text: str) -> str:
    return " ".join(text.replace(STREAMING_CURSOR, " ").split())


def conversation_id(page: Page) -> str:
    """The open conversation's id, from ?c= in the URL."""
    values = parse_qs(urlsplit(page.url).query).get("c")
    assert values and values[0].isdigit(), f"no ?c=<id> in {page.url}"
    return values[0]


def wait_until(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Poll `condition` until it returns something truthy and return that; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what or condition}", pytrace=False)
        time.sleep(interval)


def words(n: int, tag: str = "w") -> str:
    """A reply of n distinct numbered words ("w00 w01 …"): any cut of it is easy to recognise as a prefix."""
    return " ".join(f"{tag}{i:02d}" for i in range(n))


def word_count(text: str) -> int:
    return len(text.split())


def assert_prefix(shown: str, full: str, *, strict: bool) -> None:
    """`shown` is a non-empty start of `full` (made of whole words), shorter than it when `strict`."""
    assert shown, "the reply shows no text"
    assert full.startswith(shown) and full[len(shown):][:1] in ("", " "), f"{shown!r} is not a start of {full!r}"
    if strict:
        assert len(shown) < len(full), f"the whole reply is shown ({len(full)} chars), expected only a part"


def assert_signed_with(fake: FakeOpenAI, api_key: str) -> None:
    """Every request the endpoint received (models list and chats) carried `Authorization: Bearer <api_key>`."""
    assert fake.requests, "the endpoint received no request"
    for request in fake.requests:
        assert request.headers.get("authorization") == f"Bearer {api_key}", (
            f"{request.method} {request.path} was sent with Authorization {request.headers.get('authorization')!r}"
        )
