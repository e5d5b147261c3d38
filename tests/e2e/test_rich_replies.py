"""Rich replies in a real browser: hostile output stays inert and local, media and formulas render, and files
attached through the chat input reach the endpoint and show in the user's bubble."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.conftest import APP_KEY, APP_MODEL, AppLauncher, RunningApp
from tests.e2e.ui import (
    SCRIPT_IDLE,
    assistant_bubbles,
    conversation_id,
    open_app,
    reply_text,
    user_bubbles,
    wait_until,
)
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e

HOSTILE_QUESTION = "<img src=x onerror=alert(1)> <script>alert(1)</script>"  # also becomes the conversation's title
HOSTILE_REPLY = "\n\n".join([
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "The end.",
])
TRACKER = "http://203.0.113.9/tracker.png"  # TEST-NET-3: nothing answers there; the request log tells if it was tried
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


class Watch:
    """What the page did on its own: dialogs raised, requests made (data: URLs aside), tabs opened."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.popups: list[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: self.requests.append(request.url))
        page.context.on("page", lambda opened: self.popups.append(opened.url))

    def off_host(self) -> list[str]:
        return [url for url in self.requests
                if urlsplit(url).scheme != "data" and urlsplit(url).hostname not in LOCAL_HOSTS]


def send(page: Page, text: str) -> None:
    page.get_by_test_id("stChatInputTextArea").fill(text)
    page.get_by_test_id("stChatInputSubmitButton").click()


def wait_for_reply(page: Page, ending: str) -> None:
    wait_until(lambda: reply_text(page).endswith(ending), what=f"a reply ending {ending!r}")
    expect(page.locator(SCRIPT_IDLE)).to_be_attached()


def start_blocking_remote_images(launcher: AppLauncher, fake: FakeOpenAI, tmp_path: Path) -> RunningApp:
    fake.api_key = APP_KEY
    return launcher.start(tmp_path / "data", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY=APP_KEY,
                          OPENAI_MODEL=APP_MODEL, RELAYCHAT_BLOCK_REMOTE_IMAGES="1")


# --- (a) hostile output --------------------------------------------------------------------------------------------


def test_hostile_reply_runs_nothing_navigates_nowhere_and_stays_local(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
):
    watch = Watch(page)
    open_app(page, app.url)
    fake_openai.enqueue(Reply(content=HOSTILE_REPLY))
    send(page, HOSTILE_QUESTION)
    wait_for_reply(page, "The end.")

    reply = assistant_bubbles(page).last
    shown = reply_text(page)
    for piece in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
                  "javascript:alert(1)", "data:text/html;base64,"):
        assert piece in shown, f"{piece!r} is shown as text"
    expect(user_bubbles(page).last).to_contain_text(HOSTILE_QUESTION)
    expect(page.get_by_role("heading", name=HOSTILE_QUESTION)).to_be_visible()
    assert reply.locator("script, svg[onload], img[onerror], iframe, object, embed").count() == 0

    # Whatever looks like a link in the bubbles is clicked, as a curious user would.
    home = page.url
    targets = page.get_by_test_id("stChatMessage").locator("a").all()
    targets += [reply.get_by_text("click (", exact=False), reply.get_by_text("x (", exact=False)]
    for target in targets:
        href = target.get_attribute("href")
        assert href is None or urlsplit(href).scheme in ("http", "https", "mailto"), href
        target.click()
    page.wait_for_timeout(500)  # a script or navigation started by a click would have happened by now

    assert watch.dialogs == []
    assert page.url == home and watch.popups == []
    assert watch.off_host() == []
    assert any(urlsplit(url).hostname == "127.0.0.1" for url in watch.requests), "the request log works"


def test_links_in_the_first_message_are_not_live_in_the_title(app: RunningApp, page: Page, fake_openai: FakeOpenAI):
    open_app(page, app.url)
    send(page, "[t](javascript:alert(1)) [u](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")
    wait_for_reply(page, "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")
    expect(page.get_by_role("heading", name="[t](javascript:alert(1))")).to_be_visible()
    expect(page.locator("a[href^='data:'], a[href^='javascript:']")).to_have_count(0)


def tracker_reply(**timing: float) -> Reply:
    return Reply(content=f"A chart: ![p]({TRACKER})\n\nDone.", **timing)


def test_blocked_remote_image_is_not_fetched_when_the_conversation_is_opened(
    launcher: AppLauncher, fake_openai: FakeOpenAI, page: Page, tmp_path: Path
):
    app = start_blocking_remote_images(launcher, fake_openai, tmp_path)
    open_app(page, app.url)
    fake_openai.enqueue(tracker_reply())
    send(page, "Show me the chart")
    wait_for_reply(page, "Done.")
    chat = conversation_id(page)

    fresh = page.context.new_page()
    watch = Watch(fresh)
    open_app(fresh, f"{app.url}/?c={chat}")
    reply = assistant_bubbles(fresh).last
    expect(reply).to_contain_text("Done.")
    expect(reply.locator(f'a[href="{TRACKER}"]')).to_have_count(1)  # still reachable as a link
    expect(reply.locator("img")).to_have_count(0)
    assert watch.off_host() == []


def test_blocked_remote_image_is_not_fetched_while_the_reply_arrives(
    launcher: AppLauncher, fake_openai: FakeOpenAI, page: Page, tmp_path: Path
):
    app = start_blocking_remote_images(launcher, fake_openai, tmp_path)
    watch = Watch(page)
    open_app(page, app.url)
    fake_openai.enqueue(tracker_reply(first_token_delay=1.0, delay=0.1))  # still streaming at the rerun
    send(page, "Show me the chart")
    wait_for_reply(page, "Done.")
    assert watch.off_host() == []


# --- (b) media from the endpoint -----------------------------------------------------------------------------------


def test_image_and_video_links_render_as_media_under_the_reply(app: RunningApp, page: Page, fake_openai: FakeOpenAI):
    host = f"http://127.0.0.1:{fake_openai.port}"
    fake_openai.files = {"/media/cat.png": (png(48, 32), "image/png"), "/media/clip.mp4": (b"\x00" * 64, "video/mp4")}
    fake_openai.enqueue(Reply(content=f"Your cat: ![a cat]({host}/media/cat.png)\n\n"
                                      f"Video ready: {host}/media/clip.mp4\n\nEnjoy."))
    open_app(page, app.url)
    send(page, "Make me a cat and a clip")
    wait_for_reply(page, "Enjoy.")

    reply = assistant_bubbles(page).last
    image = reply.locator(f"img[src='{host}/media/cat.png']")  # shown once, where the markdown puts it
    expect(image).to_have_attribute("src", f"{host}/media/cat.png")
    wait_until(lambda: image.evaluate("img => img.complete && img.naturalWidth") == 48, what="the image to load")
    video = reply.locator("video[data-testid=stVideo]")
    expect(video).to_have_attribute("src", f"{host}/media/clip.mp4")
    wait_until(lambda: any(r.path == "/media/clip.mp4" for r in fake_openai.requests), what="the browser to fetch the clip")


# --- (c) formulas --------------------------------------------------------------------------------------------------


def test_formulas_render_with_katex(app: RunningApp, page: Page, fake_openai: FakeOpenAI):
    fake_openai.enqueue(Reply(content="By Pythagoras \\( a^2 + b^2 = c^2 \\), and\n\n"
                                      "\\[ \\int_0^1 x \\, dx = \\frac{1}{2} \\]\n\nThat costs $5. QED."))
    open_app(page, app.url)
    send(page, "Some maths please")
    wait_for_reply(page, "QED.")

    reply = assistant_bubbles(page).last
    expect(reply.locator(".katex-display .katex")).to_have_count(1)
    expect(reply.locator(".katex")).to_have_count(2)
    shown = reply_text(page)
    assert "\\(" not in shown and "\\[" not in shown
    assert "That costs $5." in shown


# --- (d) attachments -----------------------------------------------------------------------------------------------


def test_attached_image_and_text_file_reach_the_endpoint_and_show_in_the_bubble(
    app: RunningApp, page: Page, fake_openai: FakeOpenAI
):
    picture = png(64, 40)
    open_app(page, app.url)
    page.get_by_test_id("stChatInput").locator("input[type=file]").set_input_files([
        {"name": "diagram.png", "mimeType": "image/png", "buffer": picture},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Budget: 300 EUR"},
    ])
    send(page, "What do you make of these?")

    (body,) = fake_openai.wait_for_requests(1, timeout=30)
    text_part, image_part = body["messages"][-1]["content"]
    assert text_part == {"type": "text", "text": "What do you make of these?\n\n--- notes.txt ---\nBudget: 300 EUR"}
    assert image_part == {"type": "image_url",
                          "image_url": {"url": "data:image/png;base64," + base64.b64encode(picture).decode()}}

    bubble = user_bubbles(page).last
    expect(bubble).to_contain_text("What do you make of these?")
    expect(bubble).to_contain_text("notes.txt")
    thumbnail = bubble.get_by_test_id("stImage").locator("img")
    expect(thumbnail).to_have_count(1)
    expect(bubble.get_by_test_id("stImageCaption")).to_have_text("diagram.png")
    wait_until(lambda: thumbnail.evaluate("img => img.complete && img.naturalWidth") == 64, what="the thumbnail")
