"""Titles: the first words by default; asked of the endpoint's title model when it names one."""

from __future__ import annotations

import time

from sqlalchemy import update

from db import repository
from db.models import Conversation, Endpoint
from services.chat import ChatSettings, send_message
from services.generation import clean_title
from tests.fake_openai import Reply


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def title_of(runtime, conversation_id: int) -> str:
    with runtime.db.read() as session:
        return session.get(Conversation, conversation_id).title


def setup(runtime, title_model: str | None):
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
        endpoint = repository.config_endpoint(session, user)
        session.execute(update(Endpoint).where(Endpoint.id == endpoint.id).values(title_model=title_model))
    return user, ChatSettings(endpoint.id, "fake-gpt")


def test_without_a_title_model_the_first_words_are_the_title(runtime, fake_openai):
    user, settings = setup(runtime, None)
    turn = send_message(runtime, user, None, "How do I bake sourdough bread at home?", settings)
    wait_for(lambda: runtime.registry.get(turn.assistant_message_id) is None)  # the reply has ended
    assert title_of(runtime, turn.conversation_id) == "How do I bake sourdough bread at home?"
    time.sleep(0.3)
    assert len(fake_openai.chat_bodies) == 1, "no title request without a title model"


def test_the_title_model_names_the_conversation_after_the_first_reply(runtime, fake_openai):
    user, settings = setup(runtime, "fake-mini")
    fake_openai.enqueue(Reply(content="Sure, here is how."), Reply(content='"Baking Sourdough At Home."'))
    turn = send_message(runtime, user, None, "How do I bake sourdough bread at home?", settings)
    assert wait_for(lambda: title_of(runtime, turn.conversation_id) == "Baking Sourdough At Home")
    title_request = fake_openai.chat_bodies[1]
    assert title_request["model"] == "fake-mini" and "stream" not in title_request
    assert title_request["messages"][-1]["content"] == "How do I bake sourdough bread at home?"

    # Later replies do not rename it, and neither does a title the user typed.
    with runtime.db.write() as session:
        repository.rename_conversation(session, user, turn.conversation_id, "My bread notes")
    send_message(runtime, user, turn.conversation_id, "And rye?", settings)
    wait_for(lambda: len(fake_openai.chat_bodies) >= 3)
    time.sleep(0.3)
    assert len(fake_openai.chat_bodies) == 3
    assert title_of(runtime, turn.conversation_id) == "My bread notes"


def test_a_failing_title_request_keeps_the_first_words(runtime, fake_openai):
    user, settings = setup(runtime, "fake-mini")
    fake_openai.enqueue(Reply(content="Answer."), Reply(status=500, error_body={"error": {"message": "boom"}}))
    turn = send_message(runtime, user, None, "Tell me about rivers", settings)
    wait_for(lambda: len(fake_openai.chat_bodies) >= 2)
    time.sleep(0.3)
    assert title_of(runtime, turn.conversation_id) == "Tell me about rivers"


def test_clean_title_keeps_one_short_line():
    assert clean_title('"Paris Travel Tips."\nMore text') == "Paris Travel Tips"
    assert clean_title("**Title**") == "Title"
    assert len(clean_title("x" * 300)) == 80


def test_the_title_request_names_max_tokens_the_way_the_endpoint_wants(runtime, fake_openai):
    user, settings = setup(runtime, "fake-mini")
    with runtime.db.write() as session:
        session.execute(update(Endpoint).where(Endpoint.id == settings.endpoint_id)
                        .values(max_tokens_field="max_completion_tokens"))
    fake_openai.enqueue(Reply(content="Answer."), Reply(content="Rivers of Europe"))
    turn = send_message(runtime, user, None, "Tell me about rivers", settings)
    assert wait_for(lambda: title_of(runtime, turn.conversation_id) == "Rivers of Europe")
    title_request = fake_openai.chat_bodies[1]
    assert title_request["max_completion_tokens"] == 24 and "max_tokens" not in title_request
