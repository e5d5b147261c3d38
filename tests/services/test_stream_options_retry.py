"""A 400 is asked again without stream_options only when it is about stream_options: any other refusal is sent
once, as the user asked it."""

from __future__ import annotations

from db.models import Endpoint
from tests.fake_openai import Reply
from tests.services.replies import finished
from tests.services.test_generation import chat_settings, send


def test_a_400_for_another_reason_is_sent_once(runtime, fake_openai):
    fake_openai.enqueue(Reply(status=400, error_body={"error": {"message": "The model `gpt-9` does not exist"}}))
    reply = finished(runtime, send(runtime).assistant_message_id)

    assert reply.status == "error" and "does not exist" in reply.error
    assert len(fake_openai.chat_bodies) == 1


def test_a_422_naming_stream_options_only_in_its_field_list_is_asked_again_without_them(runtime, fake_openai):
    # FastAPI-style servers put the field in `loc` and say only "extra fields not permitted" in words.
    refusal = {"detail": [{"loc": ["body", "stream_options"], "msg": "extra fields not permitted"}]}
    fake_openai.enqueue(Reply(status=422, error_body=refusal), Reply(content="Fine without them."))
    reply = finished(runtime, send(runtime).assistant_message_id)

    assert (reply.status, reply.content) == ("complete", "Fine without them.")
    first, second = fake_openai.chat_bodies
    assert "stream_options" in first and "stream_options" not in second
    with runtime.db.read() as session:
        assert session.get(Endpoint, chat_settings(runtime).endpoint_id).supports_stream_usage is False


def test_an_endpoint_known_to_refuse_them_is_sent_none_and_asked_once(runtime, fake_openai):
    fake_openai.reject_stream_options = True
    finished(runtime, send(runtime).assistant_message_id)  # learns that this endpoint refuses stream_options
    fake_openai.enqueue(Reply(status=400, error_body={"error": {"message": "temperature is out of range"}}))
    reply = finished(runtime, send(runtime).assistant_message_id)

    assert reply.status == "error"
    assert len(fake_openai.chat_bodies) == 3 and "stream_options" not in fake_openai.chat_bodies[2]
