"""History in the browser: search → open the hit → regenerate (a branch) → switch siblings → reload keeps the branch."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.ui import (
    conversation_id, open_app, reply_text, send_message, user_bubbles, wait_ready, wait_until, words,
)
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e

TOOLS = "[class*='st-key-tools_'] button:visible"
REGENERATE = "[class*='st-key-regenerate_'] button:visible"
PREVIOUS = "[class*='st-key-prev_'] button:visible"
TOOLBARS = "[class*='st-key-toolbar_']"


def answer(page: Page, text: str) -> None:
    wait_until(lambda: reply_text(page) == text, what=f"the reply {text!r}")
    wait_ready(page)


def test_search_open_branch_switch_and_reload_keeps_the_branch(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        Reply(content="Feed it once a day."),
        Reply(content="Rye flour works best."),
        Reply(content="Try the coast north of Lisbon."),
        Reply(content="Spelt flour works too."),
    )
    open_app(page, app.url)
    send_message(page, "How do I keep a sourdough starter alive?")
    answer(page, "Feed it once a day.")
    send_message(page, "Which flour?")
    answer(page, "Rye flour works best.")
    bread = conversation_id(page)

    page.locator(".st-key-new_chat button").click()
    expect(user_bubbles(page)).to_have_count(0)
    send_message(page, "Good kayak routes?")
    answer(page, "Try the coast north of Lisbon.")
    assert conversation_id(page) != bread

    sidebar = page.get_by_test_id("stSidebar")
    search = page.locator(".st-key-history_query input")
    search.fill("sourdough")
    search.press("Enter")
    snippet = sidebar.get_by_test_id("stCaptionContainer").filter(has=page.locator("strong", has_text="sourdough"))
    expect(snippet.first).to_contain_text("keep a sourdough starter alive")
    expect(sidebar.get_by_text("kayak", exact=False)).to_have_count(0)
    wait_ready(page)
    page.locator(".st-key-hit_0 button").click()
    expect(page).to_have_url(re.compile(rf"[?&]c={bread}(&|$)"))
    answer(page, "Rye flour works best.")
    expect(user_bubbles(page)).to_have_count(2)

    page.locator(TOOLS).last.click()
    page.locator(REGENERATE).click()
    answer(page, "Spelt flour works too.")
    expect(page.locator(TOOLBARS).filter(has_text="2/2")).to_be_visible()

    page.locator(PREVIOUS).last.click()
    expect(page.locator(TOOLBARS).filter(has_text="1/2")).to_be_visible()
    answer(page, "Rye flour works best.")

    page.reload()
    wait_ready(page)
    assert conversation_id(page) == bread
    answer(page, "Rye flour works best.")
    expect(page.locator(TOOLBARS).filter(has_text="1/2")).to_be_visible()
    expect(user_bubbles(page)).to_have_count(2)

    # A message's ⋯ sits under the right edge of its own bubble, nearer to it than to the next message.
    bubbles = page.get_by_test_id("stChatMessage")
    own, tools, following = (bubbles.nth(0).bounding_box(), page.locator(TOOLS).first.bounding_box(),
                             bubbles.nth(1).bounding_box())
    assert abs((tools["x"] + tools["width"]) - (own["x"] + own["width"])) < 24
    assert tools["y"] - (own["y"] + own["height"]) < following["y"] - (tools["y"] + tools["height"])


def in_view(page: Page, selector: str, *, whole: bool = True) -> bool:
    """Whether the element (or, not `whole`, its beginning) is on screen, above the chat input that covers the
    bottom of the page."""
    box = page.locator(selector).last.bounding_box()
    top_of_input = page.get_by_test_id("stChatInput").bounding_box()["y"]
    return box is not None and 0 <= box["y"] and (box["y"] + box["height"] if whole else box["y"] + 40) <= top_of_input


def test_an_opened_conversation_shows_its_latest_message_and_a_message_menu_opens_in_view(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    # Code blocks are highlighted after the text is drawn: the page grows once more after it opens.
    code = "```python\n" + "\n".join(f"print({i})" for i in range(8)) + "\n```"
    long_reply = "\n\n".join(f"Paragraph {i}: " + words(40, f"p{i}w") + "\n\n" + code for i in range(12))
    fake_openai.enqueue(Reply(content=long_reply))
    open_app(page, app.url)
    send_message(page, "Tell me a long story.")
    wait_until(lambda: "p11w39" in reply_text(page), what="the whole reply")
    wait_ready(page)
    url = page.url

    page.goto(app.url)  # elsewhere, then back: the conversation opens at its end, like any chat
    wait_ready(page)
    page.goto(url)
    wait_until(lambda: "p11w39" in reply_text(page), what="the whole reply")
    wait_until(lambda: in_view(page, TOOLS), what="the last message's ⋯ on screen")

    page.locator(TOOLS).last.click()
    # Its box holds a copy of the whole reply, taller than the screen: its beginning (the buttons) is what shows.
    wait_until(lambda: in_view(page, "[class*='st-key-message_tools_']", whole=False),
               what="the opened message tools on screen")
