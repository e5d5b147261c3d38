"""Rich replies on the chat page, through AppTest: reasoning, math, media, hostile HTML, blocked remote images,
and the token counter under the input."""

from __future__ import annotations

import pytest

from tests.fake_openai import Reply
from ui import scroll
from ui.history import LIST_STYLE
from ui.live import HIDE_RUNNING_INDICATOR
from ui.messages import EMPTY_REPLY, TOOLBAR_STYLE


def ask(open_app, fake, reply: Reply, text: str = "Go on"):
    """A new chat in which `text` was sent and `reply` came back; the page as it is right after."""
    fake.enqueue(reply)
    at = open_app()
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def reply_bubble(at):
    bubbles = [message for message in at.chat_message if message.name == "assistant"]
    assert bubbles, "no reply on the page"
    return bubbles[-1]


def markdown_of(block) -> list[str]:
    return [md.value for md in block.markdown]


def media(at, kind: str) -> list[str]:
    """The URLs of the st.image ("image") or st.video ("video") elements on the page."""
    if kind == "image":
        return [url for element in at.image for url in element.value]
    return [element.proto.url for element in at.get("video")]


# --- reasoning ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(reasoning="Six sevens make forty-two.", content="The answer is 42."), id="reasoning_content"),
        pytest.param(Reply(content="<think>Six sevens make forty-two.</think>The answer is 42."), id="think-tags"),
    ],
)
def test_reasoning_sits_in_a_collapsed_expander_and_the_answer_outside_it(configured, open_app, reply):
    at = ask(open_app, configured, reply, "What is six times seven?")

    bubble = reply_bubble(at)
    (thinking,) = bubble.expander
    assert thinking.label == "Thinking" or thinking.label.startswith("Thought for "), thinking.label
    assert not thinking.proto.expanded, "the reasoning starts collapsed"
    assert [text.value for text in thinking.text] == ["Six sevens make forty-two."]
    assert markdown_of(bubble) == ["The answer is 42."]


def test_reasoning_is_shown_as_written_not_as_markdown(configured, open_app):
    reasoning = "17*20 is 340, and 17*3 is 51: _so_ 17*23 = 391.\n\n# not a heading"
    at = ask(open_app, configured, Reply(reasoning=reasoning, content="391."), "What is 17 times 23?")

    (thinking,) = reply_bubble(at).expander
    assert [text.value for text in thinking.text] == [reasoning], "the reasoning is shown character for character"
    assert markdown_of(thinking) == [], "no part of it goes through markdown (17*20 … 17*3 would turn italic)"


# --- math, media and hostile text --------------------------------------------------------------------------------


def test_latex_delimiters_reach_markdown_as_dollars(configured, open_app):
    at = ask(open_app, configured, Reply(content="The area is \\(\\pi r^2\\), and\n\n\\[E = mc^2\\]\n\nfor $5 a copy."))
    body = "\n\n".join(markdown_of(reply_bubble(at)))  # a streamed reply is drawn block by block
    assert "$\\pi r^2$" in body and "$$" in body and "E = mc^2" in body
    assert "\\(" not in body and "\\[" not in body
    assert "\\$5" in body, "a price stays a price"


def test_linked_media_become_media_elements_and_a_markdown_image_stays_in_the_text(configured, open_app):
    reply = Reply(content="Here: ![a cat](http://127.0.0.1:9/media/cat.png)\n\n[Download it](http://127.0.0.1:9/media/cat.png)"
                          "\n\nA dog: http://127.0.0.1:9/media/dog.png\n\nThe clip: http://127.0.0.1:9/media/clip.mp4")
    at = ask(open_app, configured, reply)
    assert "![a cat](http://127.0.0.1:9/media/cat.png)" in "\n".join(markdown_of(reply_bubble(at)))
    assert media(at, "image") == ["http://127.0.0.1:9/media/dog.png"], "the cat, shown by the markdown, not twice"
    assert media(at, "video") == ["http://127.0.0.1:9/media/clip.mp4"]


def test_local_file_links_never_reach_media_elements(configured, open_app):
    reply = Reply(content="![p](file:///etc/passwd) ![q](/etc/passwd) [r](/etc/hosts.png) /etc/passwd.mp4 ![s](../../etc/x.png)")
    at = ask(open_app, configured, reply)
    assert reply_bubble(at).markdown, "the reply is shown as text"
    assert media(at, "image") == [] and media(at, "video") == []


def test_hostile_html_is_shown_as_text(configured, open_app):
    payload = '<script>alert(1)</script> <img src=x onerror=alert(1)> <svg onload=alert(1)>'
    at = ask(open_app, configured, Reply(content=payload))
    (body,) = markdown_of(reply_bubble(at))
    for piece in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>"):
        assert piece in body
    assert not any(md.allow_html for md in at.get("markdown")), "no markdown is rendered with unsafe_allow_html"
    own = {HIDE_RUNNING_INDICATOR, TOOLBAR_STYLE}  # styles, and the page's own script (fixed, with a message id)
    bodies = {html.proto.body for html in at.get("html")} - own
    assert all(body.startswith((f"<script>{scroll.script(None)}", LIST_STYLE)) and "alert" not in body
               for body in bodies), (
        "no model text as HTML, only the app's own")


# --- blocked remote images and the token counter -----------------------------------------------------------------
# The replies are held back for a second so that the page follows them live and then draws the finished reply.

SLOW = 1.0  # seconds before the first token


def test_blocked_remote_image_is_a_plain_link(configured, open_app, monkeypatch):
    monkeypatch.setenv("RELAYCHAT_BLOCK_REMOTE_IMAGES", "1")
    link = "[🖼 chart](http://127.0.0.1:9/media/chart.png)"
    at = ask(open_app, configured, Reply(content="Look: ![chart](http://127.0.0.1:9/media/chart.png)",
                                         first_token_delay=SLOW))
    for page in (at, open_app(c="1")):  # right after the reply, and when the conversation is opened again
        assert markdown_of(reply_bubble(page)) == [f"Look: {link}"]
        assert media(page, "image") == []


def test_blocked_remote_image_is_a_plain_link_in_every_choice(configured, open_app, monkeypatch):
    monkeypatch.setenv("RELAYCHAT_BLOCK_REMOTE_IMAGES", "1")
    configured.enqueue(Reply(contents=["One: ![a](http://127.0.0.1:9/a.png)", "Two: ![b](http://127.0.0.1:9/b.png)"]))
    at = open_app()
    at.number_input(key="setting_param_n").set_value(2).run()
    at.chat_input[0].set_value("Two takes").run()
    at = open_app(c="1")
    assert [text for text in markdown_of(reply_bubble(at)) if text.startswith(("One", "Two"))] == [
        "One: [🖼 a](http://127.0.0.1:9/a.png)", "Two: [🖼 b](http://127.0.0.1:9/b.png)"]
    assert media(at, "image") == []


def token_note(at) -> str:
    notes = [caption.value for caption in at.caption if "tokens" in caption.value]
    assert len(notes) == 1, notes
    return notes[0]


def test_token_counter_shows_the_estimate_against_a_known_context_window(configured, open_app, monkeypatch):
    monkeypatch.setenv("OPENAI_MODEL", "gpt-4o")
    assert token_note(open_app()) == "≈ 0 of 128,000 tokens of gpt-4o's context (estimate)"

    question = " ".join(["word"] * 80)  # 399 characters: 100 tokens; the reply's 14 characters: 4
    at = ask(open_app, configured, Reply(content="Noted, thanks.", first_token_delay=SLOW), question)
    assert token_note(at) == "≈ 104 of 128,000 tokens of gpt-4o's context (estimate)"


def test_token_counter_for_an_unknown_model_shows_the_estimate_alone(configured, open_app):
    at = ask(open_app, configured, Reply(content="Noted."), "Twelve chars")
    assert token_note(at) == "≈ 5 tokens in this conversation (estimate)"


# --- a reply that ended with no text -----------------------------------------------------------------------------


def cursors(at) -> list[str]:
    return [md.value for md in at.markdown if "▌" in md.value]


def test_an_empty_reply_says_so_and_leaves_no_cursor(configured, open_app):
    at = ask(open_app, configured, Reply(content=[], first_token_delay=SLOW))
    assert cursors(at) == [], "the streaming cursor stays in a finished reply"
    assert any(caption.value == EMPTY_REPLY for caption in reply_bubble(at).caption)
    assert any(caption.value == EMPTY_REPLY for caption in reply_bubble(open_app(c="1")).caption), "and when reopened"


def test_a_reply_that_failed_before_any_text_leaves_no_cursor_above_its_error(configured, open_app):
    at = ask(open_app, configured, Reply(content="never sent", error_after=0, first_token_delay=SLOW))
    assert cursors(at) == []
    assert reply_bubble(at).error, "the error is shown"
    assert not any(caption.value == EMPTY_REPLY for caption in reply_bubble(at).caption), "a failure is not 'empty'"
