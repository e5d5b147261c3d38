"""A reply streams into the page, can be stopped, and survives a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import APP_KEY, RunningApp
from tests.e2e.ui import (
    STOP_BUTTON,
    assert_prefix,
    normalize,
    assert_signed_with,
    assistant_bubbles,
    open_app,
    reply_text,
    send_message,
    user_bubbles,
    wait_ready,
    wait_until,
    word_count,
    words,
)
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e


def test_reply_appears_progressively(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    full = words(60)
    fake_openai.enqueue(Reply(content=full, rate=15))  # ~4 s of streaming
    open_app(page, app.url)

    send_message(page, "Count to sixty, please")

    early = wait_until(lambda: reply_text(page), what="the first words of the reply")
    assert_prefix(early, full, strict=True)
    expect(page.locator(STOP_BUTTON)).to_be_visible()
    wait_until(lambda: reply_text(page) == full, what="the whole reply")
    expect(page.locator(STOP_BUTTON)).to_have_count(0)
    expect(user_bubbles(page)).to_contain_text("Count to sixty, please")
    assert_signed_with(fake_openai, APP_KEY)


def test_stop_keeps_the_partial_text(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    full = words(80)
    fake_openai.enqueue(Reply(content=full, rate=6))  # ~13 s: far from done when Stop is pressed
    open_app(page, app.url)
    send_message(page, "Tell me a long story")
    wait_until(lambda: word_count(reply_text(page)) >= 5, what="a few words of the reply")

    page.locator(STOP_BUTTON).click()

    # The reply would take ~12 more seconds: a Stop that works ends it well before.
    expect(page.locator(STOP_BUTTON), "the reply is still streaming 8 s after Stop").to_have_count(0, timeout=8_000)
    expect(assistant_bubbles(page).last.get_by_text("Stopped")).to_be_visible()
    stopped = reply_text(page)
    assert_prefix(stopped, full, strict=True)

    open_app(page, page.url)  # a reload of the same conversation (?c=)
    expect(assistant_bubbles(page).last.get_by_text("Stopped")).to_be_visible()
    assert reply_text(page) == stopped
    expect(user_bubbles(page)).to_contain_text("Tell me a long story")


def test_reload_mid_stream_keeps_following(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    full = words(90)
    fake_openai.enqueue(Reply(content=full, rate=9))  # ~10 s
    open_app(page, app.url)
    send_message(page, "Stream something long")
    before = wait_until(lambda: reply_text(page) if word_count(reply_text(page)) >= 5 else "", what="a few words")
    assert "?c=" in page.url

    page.reload()
    wait_ready(page, wait_idle=False)  # the page follows the stream, so its script is still running

    expect(user_bubbles(page)).to_contain_text("Stream something long")
    after_reload = wait_until(lambda: reply_text(page), what="the reply after the reload")
    assert_prefix(after_reload, full, strict=True)
    assert len(after_reload) >= len(before), "text shown before the reload was lost"
    expect(page.locator(STOP_BUTTON)).to_be_visible()
    grown = wait_until(
        lambda: text if len(text := reply_text(page)) > len(after_reload) else "", what="the reply to keep growing"
    )
    assert grown.startswith(after_reload)
    wait_until(lambda: reply_text(page) == full, what="the whole reply")
    expect(page.locator(STOP_BUTTON)).to_have_count(0)


# Checked on every animation frame while the next message is sent and its reply streams.
_WATCH_JS = """() => {
  window.__frames = [];
  const watch = () => {
    const bubbles = [...document.querySelectorAll('[data-testid=stChatMessage]')].map(b => b.innerText);
    window.__frames.push(bubbles);
    if (window.__frames.length < 100000) requestAnimationFrame(watch);
  };
  watch();
}"""


def test_sending_again_keeps_the_earlier_exchange_in_place(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    # A first reply long enough to be written in several blocks, then a second one streamed slowly.
    first = "\n\n".join(words(20, tag=f"a{paragraph}x") for paragraph in range(8))
    fake_openai.enqueue(Reply(content=first, rate=400), Reply(content=words(40, tag="b"), rate=20))
    open_app(page, app.url)
    send_message(page, "First question")
    wait_until(lambda: reply_text(page) == normalize(first), what="the first reply")
    wait_ready(page)

    page.evaluate(_WATCH_JS)
    send_message(page, "Second question")
    wait_until(lambda: reply_text(page) == words(40, tag="b"), what="the second reply")
    frames = page.evaluate("window.__frames")

    assert len(frames) > 10
    for bubbles in frames:
        shown = "\n".join(bubbles)
        assert "First question" in shown and "a7x19" in shown, "the earlier exchange left the page while sending"
        new_reply = [text for text in bubbles if "b00" in text]
        assert not any("a0x" in text for text in new_reply), "the new reply's bubble showed the previous reply's text"


def test_while_a_new_conversation_streams_its_first_reply_the_page_is_whole(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Reply(content=words(60), rate=10))  # ~6 s: long enough to look around
    open_app(page, app.url)
    send_message(page, "Plan a picnic")
    wait_until(lambda: word_count(reply_text(page)) >= 3, what="the first words of the reply")

    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name="New chat")).to_be_visible()
    expect(sidebar.get_by_placeholder("Search conversations")).to_be_visible()
    expect(sidebar.get_by_role("button", name="Plan a picnic")).to_be_visible()
    expect(page.get_by_role("heading", name="Plan a picnic")).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_test_id("stPopover")).to_be_visible()  # the conversation menu
    expect(page.locator(STOP_BUTTON)).to_be_visible()  # all of this while the reply still streams
