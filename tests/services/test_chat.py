"""The decisions of a chat turn: which messages are sent, and which turns are refused before anything is saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db import repository
from db.models import Conversation, Message
from services.chat import ChatError, ChatSettings, api_messages, retry, send_message
from services.keys import KeyBox
from services.runtime import Runtime
from tests.services.replies import local_user

CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}


def msg(role: str, content: str = "", status: str = "complete", **fields: object) -> Message:
    return Message(role=role, content=content, status=status, **fields)



def config_endpoint_id(runtime: Runtime) -> int:
    with runtime.db.read() as session:
        return repository.config_endpoint(session, local_user(runtime)).id


def saved_counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Conversation)),
            session.scalar(select(func.count()).select_from(Message)),
        )


def refusal(runtime: Runtime, text: str, settings: ChatSettings) -> ChatError:
    """The ChatError a send ends in; the database must be untouched by it."""
    with pytest.raises(ChatError) as caught:
        send_message(runtime, local_user(runtime), None, text, settings)
    assert saved_counts(runtime) == (0, 0)
    return caught.value


# --- api_messages ---------------------------------------------------------------------------------------------


def test_system_prompt_goes_first():
    assert api_messages("Be brief.", [msg("user", "hi")]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]


@pytest.mark.parametrize("prompt", ["", "   \n"])
def test_empty_system_prompt_is_left_out(prompt):
    assert api_messages(prompt, [msg("user", "hi")]) == [{"role": "user", "content": "hi"}]


def test_failed_empty_replies_and_streaming_placeholders_are_left_out():
    path = [
        msg("user", "first"),
        msg("assistant", "", status="error", error="The endpoint had a server error (500)."),
        msg("user", "second"),
        msg("assistant", "half an ans", status="streaming"),
    ]
    assert api_messages("", path) == [{"role": "user", "content": "first"}, {"role": "user", "content": "second"}]


def test_partial_replies_are_kept_and_tool_calls_carried():
    path = [
        msg("user", "weather?"),
        msg("assistant", "", tool_calls=[CALL]),
        msg("assistant", "cut sh", status="interrupted"),
    ]
    assert api_messages("", path) == [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "assistant", "content": "cut sh"},
    ]


# --- turns refused before anything is saved -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  \n\t"])
def test_empty_message_is_refused(runtime, text):
    error = refusal(runtime, text, ChatSettings(config_endpoint_id(runtime), "fake-gpt"))
    assert error.field == "message" and "empty" in str(error)


def test_missing_model_is_refused(runtime):
    error = refusal(runtime, "hello", ChatSettings(config_endpoint_id(runtime), "  "))
    assert error.field == "model" and "model" in str(error)


def test_missing_endpoint_is_refused(runtime):
    error = refusal(runtime, "hello", ChatSettings(None, "fake-gpt"))
    assert error.field == "endpoint" and "endpoint" in str(error)


def test_unknown_endpoint_is_refused(runtime):
    error = refusal(runtime, "hello", ChatSettings(config_endpoint_id(runtime) + 1000, "fake-gpt"))
    assert error.field == "endpoint" and "no longer exists" in str(error)


def test_retry_with_an_unknown_endpoint_is_refused(runtime):
    user = local_user(runtime)
    with runtime.db.write() as session:
        conversation = repository.create_conversation(session, user, endpoint_id=None, model="fake-gpt")
        question = repository.add_message(session, conversation, role="user", content="hi", parent_id=None)
        failed = repository.add_message(session, conversation, role="assistant", content="", parent_id=question.id, status="error")
    with pytest.raises(ChatError) as caught:
        retry(runtime, user, failed.id, ChatSettings(config_endpoint_id(runtime) + 1000, "fake-gpt"))
    assert caught.value.field == "endpoint"
    assert saved_counts(runtime) == (1, 2)


def test_key_encrypted_with_another_secret_asks_for_the_key_again(runtime, fake_openai):
    with runtime.db.write() as session:
        endpoint = repository.save_endpoint(
            session, repository.ensure_user(session), name="Old box", base_url=fake_openai.base_url,
            extra_headers={}, default_model=None, api_key_encrypted=KeyBox("another-secret").encrypt("sk-old-key-1234"),
        )
    error = refusal(runtime, "hello", ChatSettings(endpoint.id, "fake-gpt"))
    assert error.field == "endpoint"
    assert "Old box" in str(error) and "Enter the key again" in str(error)
    assert fake_openai.chat_bodies == []
