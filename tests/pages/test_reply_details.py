"""A reply's Details and the line under it, as a user reads them: timing that is true for a whole (non-streamed)
answer, an error's status and rate-limit headers, the messages as sent, and which length limit cut a reply."""

from __future__ import annotations

import json

from tests.fake_openai import Reply
from tests.pages.conftest import TEST_KEY
from tests.pages.test_chat_page import send
from tests.pages.test_parameters_page import param

USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}


def open_details(at, message_id: int = 2):
    at.button(key=f"tools_{message_id}").click().run()  # Details live in the message tools (the ⋯ button)
    at.button(key=f"details_{message_id}").click().run()
    assert not at.exception
    return at


def details_caption(at) -> str:
    return " ".join(caption.value for caption in at.chat_message[1].caption)


def test_a_whole_answer_shows_its_total_time_and_no_made_up_rate(configured, open_app):
    # The fake takes ~0.3 s to answer; before, the whole answer counted as the first token and 7 tokens over the
    # 1 ms floor read "7000.0 tokens/s".
    configured.enqueue(Reply(content="Seven words in one whole answer here.", usage=USAGE, first_token_delay=0.3))
    at = open_app()
    at.toggle(key=param("stream")).set_value(False).run()
    at = open_details(send(at, "Hi"))

    caption = details_caption(at)
    assert "total " in caption and " ms" in caption
    assert "tokens/s" not in caption and "first token" not in caption


def test_a_streamed_answer_shows_a_rate_from_its_streaming_time(configured, open_app):
    tokens = ["one ", "two ", "three ", "four ", "five ", "six ", "seven."]
    configured.enqueue(Reply(content=tokens, usage=USAGE, rate=20))  # ~0.3 s of streaming for 7 tokens
    at = open_details(send(open_app(), "Hi"))

    caption = details_caption(at)
    assert "first token" in caption and "total " in caption
    rate = float(caption.split(" tokens/s")[0].rsplit(" ", 1)[-1])
    assert 0 < rate < 7 / 0.2  # about 20 a second: never the thousands a 1 ms window gives


def test_an_errors_details_keep_its_status_and_rate_limit_headers(configured, open_app):
    configured.enqueue(Reply(status=429, response_headers={
        "Retry-After": "20", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s",
        "x-echo-authorization": f"Bearer {TEST_KEY}",  # a relay echoing the key must not get it stored
    }))
    at = open_details(send(open_app(), "Hi"))

    details = json.loads(at.chat_message[1].json[0].value)
    assert details["response"]["status"] == 429
    assert details["response"]["headers"] == {
        "retry-after": "20", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s",
    }
    assert details["request"]["messages"] == [{"role": "user", "content": "Hi"}]
    assert TEST_KEY not in at.chat_message[1].json[0].value


def test_a_reply_cut_without_max_tokens_names_the_limit_that_was_hit(configured, open_app, monkeypatch):
    monkeypatch.setenv("OPENAI_MODEL", "gpt-4o")  # a model whose context window is known: 128,000 tokens
    usage = {"prompt_tokens": 127_990, "completion_tokens": 10, "total_tokens": 128_000}
    configured.enqueue(Reply(content="It was a dark and", finish_reason="length", usage=usage))
    at = send(open_app(), "Tell me a story")

    notes = [info.value for info in at.chat_message[1].info]
    assert not any("max_tokens (" in note or "Raise max_tokens" in note for note in notes)
    assert any("context window is full (128,000 of 128,000 tokens)" in note for note in notes)


def test_a_reply_cut_by_a_max_tokens_the_user_set_says_so(configured, open_app):
    configured.enqueue(Reply(content="Once upon a", finish_reason="length"))
    at = open_app()
    at.number_input(key=param("max_tokens")).set_value(3).run()
    send(at, "Tell me a story")

    assert any("cut by max_tokens (3)" in info.value for info in at.chat_message[1].info)


def test_a_reply_cut_by_the_endpoints_own_limit_says_so(configured, open_app):
    usage = {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}
    configured.enqueue(Reply(content="Once upon a time", finish_reason="length", usage=usage))
    at = send(open_app(), "Tell me a story")  # fake-gpt: a model whose context window is unknown

    notes = [info.value for info in at.chat_message[1].info]
    assert any("no max_tokens was sent" in note and "endpoint applies its own limit" in note for note in notes)
