"""The message view in a real browser: following a reply, opening conversations at their end, n > 1 tabs,
media shown once, the sidebar list, copy and time on a message, and a phone-sized screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.ui import (
    STOP_BUTTON, assistant_bubbles, normalize, open_app, reply_text, send_message, user_bubbles, wait_ready, wait_until,
    words,
)
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e

JUMP = "button.relaychat-jump"
MAIN = "[data-testid=stMain]"


def long_reply(tag: str, paragraphs: int = 14) -> str:
    return "\n\n".join(f"Paragraph {i}: " + words(30, f"{tag}{i}w") for i in range(paragraphs))


def scroll_top(page: Page) -> float:
    return page.locator(MAIN).evaluate("m => m.scrollTop")


def at_bottom(page: Page) -> bool:
    return page.locator(MAIN).evaluate("m => m.scrollHeight - m.scrollTop - m.clientHeight <= 60")


def wheel_up(page: Page, pixels: int) -> None:
    box = page.locator(MAIN).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -pixels)


def last_reply_in_view(page: Page) -> bool:
    """The bottom of the last reply is on screen, above the chat input (which covers the bottom of the page)."""
    box = assistant_bubbles(page).last.bounding_box()
    top_of_input = page.get_by_test_id("stChatInput").bounding_box()["y"]
    return box is not None and box["y"] + box["height"] <= top_of_input + 2


def test_a_streaming_reply_is_followed_until_the_reader_scrolls_up(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    growing = "\n\n".join(words(3, f"s{i}w") for i in range(60))  # a paragraph per token or so: the page grows fast
    fake_openai.enqueue(Reply(content=long_reply("a"), rate=0), Reply(content=growing, rate=12))
    open_app(page, app.url)
    send_message(page, "Tell me a long story")
    wait_until(lambda: "a13w29" in reply_text(page), what="the first, long reply")
    wait_ready(page)
    wheel_up(page, 20_000)  # the reader goes back to read it from the top, then asks again
    wait_until(lambda: scroll_top(page) == 0, what="the top of the page")
    expect(page.locator(JUMP)).to_be_visible()
    expect(page.locator(JUMP)).to_have_text("↓ Jump to latest")

    send_message(page, "And another one")
    wait_until(lambda: "s5w00" in reply_text(page), what="a few paragraphs of the second reply")
    for _ in range(5):  # while it streams and grows, its newest words stay on screen
        wait_until(lambda: last_reply_in_view(page), timeout=3, what="the streaming reply's end on screen")
        page.wait_for_timeout(300)
    expect(page.locator(JUMP)).to_be_hidden()

    wheel_up(page, 600)  # the reader scrolls up to reread: the page stops following
    wait_until(lambda: not at_bottom(page), what="the scroll up")
    left_at = scroll_top(page)
    shown = reply_text(page)
    wait_until(lambda: len(reply_text(page)) > len(shown) + 20, what="the reply to grow meanwhile")
    page.wait_for_timeout(500)
    assert abs(scroll_top(page) - left_at) < 2, "the page moved while the reader was reading above"
    expect(page.locator(JUMP)).to_be_visible()

    page.locator(JUMP).click()  # back to the latest, and following again
    expect(page.locator(STOP_BUTTON)).to_be_visible()
    for _ in range(3):
        wait_until(lambda: last_reply_in_view(page), timeout=3, what="the reply's end on screen after Jump to latest")
        page.wait_for_timeout(300)
    wait_until(lambda: reply_text(page) == normalize(growing), what="the whole reply")
    wait_until(lambda: last_reply_in_view(page), timeout=5, what="the finished reply's end on screen")


def test_conversations_opened_one_after_another_each_open_at_their_end(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    fake_openai.enqueue(*(Reply(content=long_reply(tag)) for tag in ("a", "b", "c")))
    open_app(page, app.url)
    for question, tag in (("First topic", "a"), ("Second topic", "b"), ("Third topic", "c")):
        page.locator(".st-key-new_chat button").click()
        expect(user_bubbles(page)).to_have_count(0)
        wait_ready(page)
        send_message(page, question)
        wait_until(lambda: f"{tag}13w29" in reply_text(page), what=f"the reply about {question}")
        wait_ready(page)

    sidebar = page.get_by_test_id("stSidebar")
    for question, tag in (("First topic", "a"), ("Second topic", "b"), ("Third topic", "c"), ("First topic", "a")):
        page.locator(MAIN).evaluate("m => m.scrollTop = 0")
        sidebar.get_by_role("button", name=question).click()
        wait_until(lambda: f"{tag}13w29" in reply_text(page), what=f"{question} to open")
        wait_ready(page)
        wait_until(lambda: last_reply_in_view(page), timeout=5, what=f"{question} opened at its latest message")
    assert errors == [], f"console errors: {errors}"


def test_every_choice_streams_in_its_tab_from_the_first_token(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(Reply(contents=[words(40, "one"), words(40, "two")], first_token_delay=2, rate=8))
    open_app(page, app.url)
    box = page.locator(".st-key-setting_param_n input")
    box.fill("2")
    box.press("Enter")
    wait_ready(page)
    send_message(page, "Two takes, please")

    tabs = assistant_bubbles(page).last.get_by_role("tab")
    expect(tabs).to_have_count(2)
    expect(page.locator(STOP_BUTTON)).to_be_visible()  # the tabs are there while the reply streams
    panel = assistant_bubbles(page).last.get_by_role("tabpanel").first
    wait_until(lambda: "one03" in panel.inner_text(), what="choice 1 to stream in its tab")
    expect(page.locator(STOP_BUTTON)).to_be_visible()
    tabs.nth(1).click()
    second = assistant_bubbles(page).last.get_by_role("tabpanel").filter(has_text="two0")
    wait_until(lambda: second.count() and "two05" in second.first.inner_text(), what="choice 2 to stream in its tab")
    expect(page.locator(STOP_BUTTON)).to_be_visible()
    expect(page.locator(STOP_BUTTON)).to_have_count(0)

    # The second choice continues the conversation: its tab stays the open one.
    assistant_bubbles(page).last.get_by_role("tab").nth(1).click()
    page.locator("[class*='st-key-choose_'] button:visible").click()
    wait_ready(page)
    selected = assistant_bubbles(page).last.get_by_role("tab", selected=True)
    expect(selected).to_have_text("★ Choice 2")
    expect(assistant_bubbles(page).last.get_by_role("tabpanel").filter(has_text="two39")).to_be_visible()


def test_an_image_that_is_also_linked_shows_once(app: RunningApp, page: Page, fake_openai: FakeOpenAI) -> None:
    from tests.e2e.test_rich_replies import png

    url = f"http://127.0.0.1:{fake_openai.port}/media/cat.png"
    fake_openai.files = {"/media/cat.png": (png(48, 32), "image/png")}
    fake_openai.enqueue(Reply(content=f"Your cat: ![a cat]({url})\n\n[Download the cat]({url})\n\nEnjoy."))
    open_app(page, app.url)
    send_message(page, "Draw me a cat")
    wait_until(lambda: reply_text(page).endswith("Enjoy."), what="the reply")
    wait_ready(page)
    expect(assistant_bubbles(page).last.locator(f"img[src='{url}']")).to_have_count(1)


def test_sidebar_titles_sit_on_one_line_and_the_streaming_one_is_marked(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    long_title = "Plan a two week trip through Portugal and Spain by train with stops in every coastal town we pass"
    fake_openai.enqueue(Reply(content="Sure."), Reply(content=words(80), rate=6))
    open_app(page, app.url)
    send_message(page, long_title)
    wait_until(lambda: reply_text(page) == "Sure.", what="the first reply")
    wait_ready(page)
    page.locator(".st-key-new_chat button").click()
    expect(user_bubbles(page)).to_have_count(0)
    wait_ready(page)
    send_message(page, "Count slowly")
    wait_until(lambda: reply_text(page).startswith("w00 w01"), what="the second reply to start")

    sidebar = page.get_by_test_id("stSidebar")
    buttons = sidebar.locator("[class*='st-key-open_'] button")
    expect(buttons).to_have_count(2)
    heights = [buttons.nth(i).bounding_box()["height"] for i in range(2)]
    trip = sidebar.locator("[class*='st-key-open_'] button", has_text="Plan a two week")
    style = trip.locator("p").first.evaluate(
        "p => { const s = getComputedStyle(p); return [s.whiteSpace, s.textOverflow, s.overflow, "
        "getComputedStyle(p.closest('button')).justifyContent] }")
    assert style[:3] == ["nowrap", "ellipsis", "hidden"], style
    assert style[3] in ("flex-start", "start", "left", "normal"), f"the title is centred: {style}"
    assert abs(heights[0] - heights[1]) < 2 and max(heights) < 40, f"a title wraps: button heights {heights}"
    text_box, button_box = trip.locator("p").first.bounding_box(), trip.bounding_box()
    assert text_box["x"] - button_box["x"] < 40, "the title starts at the left of its row"

    active = sidebar.locator("[class*='st-key-open_'] button", has_text="Count slowly")
    background = active.evaluate("b => getComputedStyle(b).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), "the open conversation is marked"
    assert background != "rgb(255, 75, 75)", "quietly: not the red primary button"

    # Back to the first conversation while the second still streams: the second is marked in the list.
    trip.click()
    wait_until(lambda: reply_text(page) == "Sure.", what="the first conversation")
    marked = sidebar.get_by_role("button", name="Count slowly")
    expect(marked.locator("[data-testid=stIconMaterial]")).to_have_text("progress_activity")
    expect(trip.locator("[data-testid=stIconMaterial]")).to_have_count(0)


def test_a_message_has_a_copy_button_and_shows_its_time_on_hover(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    fake_openai.enqueue(Reply(content="Rye flour **works** best.\n\n```\nfeed(starter)\n```"))
    open_app(page, app.url)
    send_message(page, "Which flour?")
    wait_until(lambda: reply_text(page).startswith("Rye flour works best."), what="the reply")
    wait_ready(page)

    reply_copy = page.locator("[class*='st-key-copy_'] button:visible").last
    expect(reply_copy).to_be_visible()
    reply_copy.click()
    copied = wait_until(lambda: page.evaluate("navigator.clipboard.readText()"), what="the clipboard")
    assert normalize(copied) == "Rye flour works best. feed(starter)"
    page.locator("[class*='st-key-copy_'] button:visible").first.click()
    wait_until(lambda: page.evaluate("navigator.clipboard.readText()") == "Which flour?", what="the question copied")

    time = page.locator("[class*='st-key-sent_at_']").last
    expect(time).to_have_css("opacity", "0")
    assistant_bubbles(page).last.hover()
    expect(time).to_have_css("opacity", "1")
    assert time.inner_text().count(":") == 1, f"a time, not {time.inner_text()!r}"


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def test_on_a_phone_the_sidebar_gets_out_of_the_way_after_a_pick(
    app: RunningApp, phone: Page, fake_openai: FakeOpenAI
) -> None:
    page = phone
    fake_openai.enqueue(Reply(content="Feed it daily."))
    open_app(page, app.url)
    sidebar = page.get_by_test_id("stSidebar")
    send_message(page, "Starter care?")
    wait_until(lambda: reply_text(page) == "Feed it daily.", what="the reply")
    wait_ready(page)

    def open_sidebar() -> None:
        if sidebar.get_attribute("data-collapsed") != "false":
            page.get_by_test_id("stExpandSidebarButton").click()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        expect(page.locator(".st-key-new_chat button")).to_be_in_viewport()

    open_sidebar()
    page.locator(".st-key-new_chat button").click()
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    wait_ready(page)
    open_sidebar()
    sidebar.get_by_role("button", name="Starter care?").click()
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    wait_until(lambda: reply_text(page) == "Feed it daily.", what="the conversation")
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 1, "the chat is not covered"
