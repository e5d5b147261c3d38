"""What a reply's Details keep of its request: every parameter and the messages as sent, an attached image as its
kind and size instead of its base64 bytes."""

from __future__ import annotations

import base64

from services.attachments import Attachment
from services.chat import send_message
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
    assert reply.request["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "What is this?\n\n--- notes.txt ---\nhello"},
        {"type": "image_url", "image_url": {"url": "image (240 KB)"}},
    ]}]
    assert "base64" not in str(reply.request)
