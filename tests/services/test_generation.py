"""Replies produced by worker threads through the Runtime: what ends up in the database, and what the endpoint saw."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from db import repository
from db.models import Conversation, Endpoint, Message, utcnow
from services.chat import ChatSettings, Turn, retry, send_message
from services.generation import snapshot_of
from services.params import ChatParams
from services.runtime import Runtime, start_runtime
from tests.fake_openai import Reply
from tests.services.replies import WAIT, finished, local_user

API_KEY = "sk-test-key-0001"
USAGE = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}



def chat_settings(runtime: Runtime, **params: Any) -> ChatSettings:
    with runtime.db.read() as session:
        endpoint = repository.config_endpoint(session, local_user(runtime))
    return ChatSettings(endpoint.id, "fake-gpt", params=ChatParams(**params))


def send(runtime: Runtime, text: str = "hello there", conversation_id: int | None = None, **params: Any) -> Turn:
    return send_message(runtime, local_user(runtime), conversation_id, text, chat_settings(runtime, **params))


def load(runtime: Runtime, message_id: int) -> Message:
    with runtime.db.read() as session:
        return session.get(Message, message_id)



def eventually(check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll until `check` returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def orphan(runtime: Runtime, age: timedelta = timedelta(minutes=1)) -> int:
    """A "streaming" reply last saved `age` ago with no live worker: what a killed server leaves behind."""
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
        conversation = repository.create_conversation(session, user, endpoint_id=None, model="fake-gpt")
        question = repository.add_message(session, conversation, role="user", content="q", parent_id=None)
        reply = repository.add_message(
            session, conversation, role="assistant", content="half an ans", parent_id=question.id,
            status="streaming", updated_at=utcnow() - age,
        )
        return reply.id


# --- a reply that completes -----------------------------------------------------------------------------------


def test_streamed_reply_is_saved_with_everything_about_it(runtime, fake_openai):
    fake_openai.enqueue(Reply(content="Hello from the fake", usage=USAGE, response_headers={"x-request-id": "req_abc123"}))
    turn = send(runtime, temperature=0.3, max_tokens=50)
    reply = finished(runtime, turn.assistant_message_id)

    assert (reply.status, reply.error, reply.content) == ("complete", None, "Hello from the fake")
    assert (reply.model, reply.finish_reason) == ("fake-gpt", "stop")
    assert reply.request == {
        "model": "fake-gpt", "temperature": 0.3, "max_tokens": 50, "stream": True, "stream_options": {"include_usage": True},
        "messages": [],  # only system messages are kept: the rest is the reply's branch
    }
    assert (reply.prompt_tokens, reply.completion_tokens, reply.total_tokens) == (5, 4, 9)
    assert 0 <= reply.time_to_first_token_ms <= reply.duration_ms
    assert reply.response_meta["headers"]["x-request-id"] == "req_abc123"


def test_only_the_parameters_set_are_sent(runtime, fake_openai):
    finished(runtime, send(runtime).assistant_message_id)
    finished(runtime, send(runtime, top_p=0.9, response_format="json_object").assistant_message_id)
    plain, tuned = fake_openai.chat_bodies
    assert set(plain) == {"model", "messages", "stream", "stream_options"}
    assert {k: v for k, v in tuned.items() if k != "messages"} == {
        "model": "fake-gpt", "top_p": 0.9, "response_format": {"type": "json_object"},
        "stream": True, "stream_options": {"include_usage": True},
    }


def test_stream_off_sends_a_whole_request_and_saves_the_same_result(runtime, fake_openai):
    fake_openai.enqueue(Reply(content="Hello from the fake", usage=USAGE))
    reply = finished(runtime, send(runtime, stream=False).assistant_message_id)
    assert "stream" not in fake_openai.chat_bodies[0] and "stream_options" not in fake_openai.chat_bodies[0]
    assert (reply.status, reply.content, reply.finish_reason) == ("complete", "Hello from the fake", "stop")
    assert (reply.prompt_tokens, reply.completion_tokens, reply.total_tokens) == (5, 4, 9)
    assert reply.request == {"model": "fake-gpt", "messages": []}


# --- durability while streaming -------------------------------------------------------------------------------


def test_user_message_is_saved_before_the_endpoint_answers(runtime, fake_openai):
    fake_openai.enqueue(Reply(headers_delay=1.5))
    turn = send(runtime, "is this saved?")
    fake_openai.wait_for_requests(1)
    with runtime.db.read() as session:
        conversation = session.get(Conversation, turn.conversation_id)
        path = repository.message_path(session, conversation)
    assert [(m.role, m.content, m.status) for m in path] == [
        ("user", "is this saved?", "complete"), ("assistant", "", "streaming"),
    ]
    assert finished(runtime, turn.assistant_message_id).content == "You said: is this saved?"


def test_progress_is_saved_while_streaming(runtime, fake_openai):
    words = " ".join(f"w{i}" for i in range(40))
    fake_openai.enqueue(Reply(content=words, rate=20))
    turn = send(runtime)

    def partial() -> Message | None:
        message = load(runtime, turn.assistant_message_id)
        return message if message.status == "streaming" and message.content else None

    saved = eventually(partial)
    assert words.startswith(saved.content) and saved.content != words
    assert finished(runtime, turn.assistant_message_id).content == words


def test_stop_keeps_the_partial_text_even_while_the_endpoint_hangs(runtime, fake_openai):
    fake_openai.enqueue(Reply(content="one two three four five", hang_after=3, hang_seconds=30))
    turn = send(runtime)
    generation = runtime.registry.get(turn.assistant_message_id)
    eventually(lambda: generation.snapshot().content == "one two three ")

    assert runtime.registry.stop(turn.assistant_message_id)
    assert generation.wait(4), "Stop must not wait for the endpoint (idle timeout is 5 s)"
    reply = load(runtime, turn.assistant_message_id)
    assert (reply.status, reply.content, reply.error) == ("stopped", "one two three ", None)


def test_stop_while_waiting_for_the_answer_to_begin(runtime, fake_openai):
    fake_openai.enqueue(Reply(headers_delay=30))
    turn = send(runtime)
    fake_openai.wait_for_requests(1)
    generation = runtime.registry.get(turn.assistant_message_id)

    runtime.registry.stop(turn.assistant_message_id)
    assert generation.wait(4), "Stop must not wait for the first-token timeout (5 s)"
    reply = load(runtime, turn.assistant_message_id)
    assert (reply.status, reply.content, reply.error) == ("stopped", "", None)


# --- how replies end badly ------------------------------------------------------------------------------------


def test_endpoint_error_before_any_text_is_saved_as_error(runtime, fake_openai):
    fake_openai.enqueue(Reply(status=500))
    reply = finished(runtime, send(runtime).assistant_message_id)
    assert (reply.status, reply.content) == ("error", "")
    assert "server error (500)" in reply.error and "Internal Server Error (fake)" in reply.error


def test_endpoint_error_after_some_text_keeps_it_as_interrupted(runtime, fake_openai):
    fake_openai.enqueue(Reply(content="one two three four", error_after=2))
    reply = finished(runtime, send(runtime).assistant_message_id)
    assert (reply.status, reply.content) == ("interrupted", "one two ")
    assert "The model is overloaded (fake)" in reply.error


def test_stream_without_done_but_with_a_finish_reason_is_complete(runtime, fake_openai):
    fake_openai.enqueue(Reply(content="all there", send_done=False))
    reply = finished(runtime, send(runtime).assistant_message_id)
    assert (reply.status, reply.content, reply.finish_reason, reply.error) == ("complete", "all there", "stop", None)


def test_stream_without_done_or_finish_reason_is_interrupted(runtime, fake_openai):
    fake_openai.enqueue(Reply(content="cut short", send_done=False, send_finish=False))
    reply = finished(runtime, send(runtime).assistant_message_id)
    assert (reply.status, reply.content) == ("interrupted", "cut short")
    assert "ended before the answer was complete" in reply.error


def test_rejected_stream_options_are_dropped_and_remembered(runtime, fake_openai):
    fake_openai.reject_stream_options = True
    first = finished(runtime, send(runtime).assistant_message_id)
    assert (first.status, first.content) == ("complete", "You said: hello there")
    rejected, accepted = fake_openai.chat_bodies
    assert "stream_options" in rejected and "stream_options" not in accepted and accepted["stream"] is True
    with runtime.db.read() as session:
        assert session.get(Endpoint, chat_settings(runtime).endpoint_id).supports_stream_usage is False

    second = finished(runtime, send(runtime, conversation_id=first.conversation_id).assistant_message_id)
    assert second.status == "complete"
    assert len(fake_openai.chat_bodies) == 3 and "stream_options" not in fake_openai.chat_bodies[2]


def test_a_400_for_another_reason_does_not_mark_stream_options_unsupported(runtime, fake_openai):
    bad_model = Reply(status=400, error_body={"error": {"message": "The model does not exist", "type": "x"}})
    fake_openai.enqueue(bad_model, bad_model)
    reply = finished(runtime, send(runtime).assistant_message_id)
    assert reply.status == "error" and "The model does not exist" in reply.error
    with runtime.db.read() as session:
        assert session.get(Endpoint, chat_settings(runtime).endpoint_id).supports_stream_usage is None


def test_retry_adds_a_sibling_and_makes_it_current(runtime, fake_openai):
    fake_openai.enqueue(Reply(status=503))
    failed = finished(runtime, send(runtime, "try me").assistant_message_id)
    assert failed.status == "error"

    turn = retry(runtime, local_user(runtime), failed.id, chat_settings(runtime))
    again = finished(runtime, turn.assistant_message_id)
    assert (again.status, again.content, again.parent_id) == ("complete", "You said: try me", failed.parent_id)
    assert fake_openai.chat_bodies[1]["messages"] == [{"role": "user", "content": "try me"}]
    with runtime.db.read() as session:
        assert session.get(Conversation, turn.conversation_id).current_leaf_id == again.id
    assert load(runtime, failed.id).status == "error"


# --- replies whose writer died --------------------------------------------------------------------------------


def test_interrupt_orphans_marks_old_streaming_rows_only(runtime):
    stale, fresh = orphan(runtime), orphan(runtime, age=timedelta(0))
    assert runtime.registry.interrupt_orphans() == 1
    assert load(runtime, stale).status == "interrupted"
    assert load(runtime, stale).content == "half an ans"
    assert load(runtime, fresh).status == "streaming"


def test_snapshot_of_an_orphan_reports_it_interrupted(runtime):
    message_id = orphan(runtime)
    snapshot = snapshot_of(runtime.registry, runtime.db, message_id)
    assert (snapshot.status, snapshot.content) == ("interrupted", "half an ans")
    assert "server stopped" in snapshot.error
    assert load(runtime, message_id).status == "interrupted"


def test_a_restart_marks_orphans_interrupted(runtime):
    message_id = orphan(runtime)
    restarted = start_runtime(runtime.settings)
    restarted.close()
    assert load(runtime, message_id).status == "interrupted"


# --- the API key stays secret ---------------------------------------------------------------------------------


def test_api_key_is_never_saved_or_logged(runtime, fake_openai, caplog):
    caplog.set_level(logging.DEBUG)
    fake_openai.enqueue(
        Reply(content="fine", response_headers={"x-request-id": "req_1"}),
        # Some relays quote the key they were given; the app must not keep it.
        Reply(status=401, error_body={"error": {"message": f"Invalid API key: {API_KEY}", "type": "auth"}}),
    )
    first = finished(runtime, send(runtime).assistant_message_id)
    second = finished(runtime, send(runtime, conversation_id=first.conversation_id).assistant_message_id)
    assert (first.status, second.status) == ("complete", "error")
    assert "Invalid API key" in second.error

    with runtime.db.read() as session:
        rows = session.scalars(select(Message)).all()
        saved = [{column.key: getattr(row, column.key) for column in Message.__table__.columns} for row in rows]
    assert API_KEY not in json.dumps(saved, default=str)
    assert caplog.records, "expected log records from the HTTP client at DEBUG"
    assert not [r for r in caplog.records if API_KEY in r.getMessage() or API_KEY in (r.exc_text or "")]
