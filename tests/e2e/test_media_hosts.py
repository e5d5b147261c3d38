"""Nothing the endpoint sends makes the reader's browser fetch from another host before the reader asks: media in
replies (every markdown form, bare links), model ids, tool calls, error texts and titles. A second local server
(127.0.0.2) stands for that host and records every request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import APP_KEY, AppLauncher, RunningApp
from tests.e2e.ui import SCRIPT_IDLE, assistant_bubbles, conversation_id, open_app, reply_text, wait_ready, wait_until
from tests.fake_openai import FakeOpenAI, Reply
from tests.outside_host import OutsideHost, outside_host

pytestmark = pytest.mark.e2e

SETTLE_MS = 1500  # long enough for a browser to have fetched anything the page holds


@pytest.fixture
def other() -> Iterator[OutsideHost]:
    with outside_host() as host:
        yield host


def image(other: OutsideHost, name: str) -> str:
    return f"![{name}]({other.url(f'/{name}.png?d=secret')})"


def start(launcher: AppLauncher, fake: FakeOpenAI, tmp_path: Path, other: OutsideHost, **settings: str) -> RunningApp:
    fake.api_key = APP_KEY
    hostile_model = image(other, "model")  # a model id is whatever /models lists
    fake.models = ["fake-gpt", hostile_model]
    return launcher.start(tmp_path / "data", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY=APP_KEY,
                          OPENAI_MODEL=hostile_model, **settings)


def send(page: Page, text: str) -> None:
    page.get_by_test_id("stChatInputTextArea").fill(text)
    page.get_by_test_id("stChatInputSubmitButton").click()


def media_reply(other: OutsideHost) -> Reply:
    return Reply(content="\n\n".join([
        f"Inline {image(other, 'inline')}",
        "Reference ![ref][r]",
        f"Scheme-relative ![sr](//{other.host}/scheme-relative.png)",
        f"Bare {other.url('/bare.png')} and a clip {other.url('/clip.mp4')}",
        f"[r]: {other.url('/reference.png')}",
        "Done.",
    ]))


def hostile_tool_call(other: OutsideHost) -> Reply:
    return Reply(tool_calls=[{"id": "call_1", "name": image(other, "tool-name"),
                              "arguments": '{"q": "%s"}' % image(other, "tool-args").replace('"', '\\"')}])


def hostile_error(other: OutsideHost) -> Reply:
    return Reply(status=403, error_body={"error": {"message": f"Bad request {image(other, 'error')}",
                                                   "type": "invalid_request_error"}})


def test_nothing_reaches_another_host_before_the_click_then_load_and_always_load(
    launcher: AppLauncher, fake_openai: FakeOpenAI, page: Page, tmp_path: Path, other: OutsideHost
):
    app = start(launcher, fake_openai, tmp_path, other)
    open_app(page, app.url)
    # The first message names the conversation: a title is endpoint-side text too once a title model writes it.
    fake_openai.enqueue(media_reply(other))
    send(page, f"Title {image(other, 'title')}")
    wait_until(lambda: reply_text(page).endswith("Done."), what="the media reply")
    expect(page.locator(SCRIPT_IDLE)).to_be_attached()
    fake_openai.enqueue(hostile_tool_call(other))
    send(page, "Call a tool")
    expect(page.get_by_text("Tool call")).to_be_visible()
    expect(page.locator(SCRIPT_IDLE)).to_be_attached()
    fake_openai.enqueue(hostile_error(other))
    send(page, "Fail please")
    expect(page.get_by_test_id("stAlert").filter(has_text="Bad request")).to_be_visible()
    expect(page.locator(SCRIPT_IDLE)).to_be_attached()
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()  # the model list, opened
    page.wait_for_timeout(SETTLE_MS)
    page.keyboard.press("Escape")
    assert other.paths == [], "fetched while the replies arrived"

    chat = conversation_id(page)
    open_app(page, f"{app.url}/?c={chat}")  # and again on reload
    first = assistant_bubbles(page).first
    placeholders = first.locator("[class*='st-key-media_placeholder_']")
    # Inline, reference, bare image, clip; the scheme-relative image stays a link in the text.
    expect(placeholders).to_have_count(4)
    expect(placeholders.first).to_contain_text(f"from {other.host.split(':')[0]}")
    page.wait_for_timeout(SETTLE_MS)
    assert other.paths == [], "fetched when the conversation was opened"

    # "Load" fetches that one image, and only it.
    placeholders.first.get_by_role("button", name="Load", exact=True).click()
    wait_until(lambda: other.requested("/inline.png"), what="the browser to fetch the loaded image")
    expect(page.locator(SCRIPT_IDLE)).to_be_attached()
    assert not other.requested("/reference.png") and not other.requested("/bare.png")

    # "Always load from this host" loads the rest, and keeps doing so after a reload (saved for this user).
    first.locator("[class*='st-key-trust_host_'] button").first.click()
    wait_until(lambda: other.requested("/reference.png") and other.requested("/bare.png")
               and other.requested("/scheme-relative.png"), what="the other media to load")
    expect(page.locator(SCRIPT_IDLE)).to_be_attached()
    expect(assistant_bubbles(page).first.locator("[class*='st-key-media_placeholder_']")).to_have_count(0)
    before = len(other.requested("/bare.png"))
    open_app(page, f"{app.url}/?c={chat}")
    wait_until(lambda: len(other.requested("/bare.png")) > before, what="the trusted host's media on reload")
    # Model ids, tool calls and error texts are text, not media: even a trusted host's "image" there is not fetched.
    # (The title's image now loads in the user's own message, which is markdown; the title itself stays text.)
    expect(page.get_by_role("heading", name=f"Title {image(other, 'title')}")).to_be_visible()
    for name in ("model", "tool-name", "tool-args", "error"):
        assert not other.requested(f"/{name}.png"), f"{name}.png was fetched"


def test_a_listed_host_loads_at_once_and_blocking_blocks_even_that(
    launcher: AppLauncher, fake_openai: FakeOpenAI, page: Page, tmp_path: Path, other: OutsideHost
):
    app = start(launcher, fake_openai, tmp_path, other, RELAYCHAT_MEDIA_HOSTS=f"cdn.example, {other.host}")
    open_app(page, app.url)
    fake_openai.enqueue(media_reply(other))
    send(page, "Show me")
    wait_until(lambda: other.requested("/inline.png") and other.requested("/bare.png"), what="listed media to load")
    expect(assistant_bubbles(page).last.locator("[class*='st-key-media_placeholder_']")).to_have_count(0)
    launcher.stop_all(show_logs=False)

    other.paths.clear()
    blocked = launcher.start(tmp_path / "data", OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY=APP_KEY,
                             RELAYCHAT_MEDIA_HOSTS=other.host, RELAYCHAT_BLOCK_REMOTE_IMAGES="1")
    open_app(page, blocked.url)
    page.get_by_test_id("stSidebar").get_by_role("button").filter(has_text="Show me").click()
    wait_ready(page)
    reply = assistant_bubbles(page).last
    expect(reply).to_contain_text("Done.")
    expect(reply.locator("[class*='st-key-media_placeholder_']").first).to_contain_text("turned off")
    expect(reply.get_by_role("button", name="Load", exact=True)).to_have_count(0)
    page.wait_for_timeout(SETTLE_MS)
    assert other.paths == []
