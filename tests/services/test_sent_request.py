"""What a reply's Details keep of its request: every parameter and the messages as sent, an attached image as its
kind and size instead of its base64 bytes."""

from __future__ import annotations

import base64
import dataclasses

from services.attachments import Attachment
from services.chat import send_message
from services.conversations import request_as_sent
from tests.services.replies import finished, local_user
from tests.services.test_generation import chat_settings

IMAGE_BYTES = 240 * 1024


def test_the_saved_request_holds_the_messages_with_images_summarised(runtime, fake_openai):
    data_url = "data:image/jpeg;base64," + base64.b64encode(b"\xff" * IMAGE_BYTES).decode()
    photo = Attachment(name="cat.jpg", kind="image", size=IMAGE_BYTES, data_url=data_url)
    notes = Attachment(name="notes.txt", kind="text", size=5, text="hello")
    turn = send_message(runtime, local_user(runtime), None, "What is this?", chat_settings(runtime, temperature=0.5),
                        attachments=[photo, notes])
    reply = finished(runtime, turn.assistant_message_id)

    sent = fake_openai.chat_bodies[0]
    assert sent["messages"][0]["content"][1]["image_url"]["url"] == data_url
    assert reply.request["temperature"] == 0.5
    assert "base64" not in str(reply.request)
    assert request_as_sent(runtime, local_user(runtime), reply)["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "What is this?\n\n--- notes.txt ---\nhello"},
        {"type": "image_url", "image_url": {"url": "image (240 KB)"}},
    ]}]


def test_a_reply_stores_its_system_message_and_not_its_whole_branch(runtime, fake_openai):
    user = local_user(runtime)
    settings = dataclasses.replace(chat_settings(runtime), system_prompt="Be brief.")
    first = send_message(runtime, user, None, "one", settings)
    finished(runtime, first.assistant_message_id)
    second = send_message(runtime, user, first.conversation_id, "two", settings)
    reply = finished(runtime, second.assistant_message_id)

    assert reply.request["messages"] == [{"role": "system", "content": "Be brief."}]  # the branch is not copied
    assert request_as_sent(runtime, user, reply) == fake_openai.chat_bodies[1]  # Details show it all, as sent
