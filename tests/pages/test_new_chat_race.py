"""A message typed right after New chat (or a pick in the sidebar) goes to the conversation it was typed in, even
when the browser's rerun still carries the previous ?c= or lands in the same rerun as the click."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Message
from tests.pages.test_chat_page import runtime_db, send


def conversation_of(text: str) -> int | None:
    with runtime_db().read() as session:
        message = session.scalars(select(Message).where(Message.content == text)).one_or_none()
        return None if message is None else message.conversation_id


def test_a_message_sent_after_new_chat_with_the_old_link_still_in_the_url_starts_a_new_chat(configured, open_app):
    at = send(open_app(), "First")
    at.button(key="new_chat").click().run()
    at.query_params["c"] = "1"  # the browser has not applied the new URL yet: its rerun still carries ?c=1
    send(at, "Meant for a new chat")
    assert conversation_of("Meant for a new chat") not in (None, 1)
    assert conversation_of("First") == 1


def test_new_chat_and_enter_in_the_same_rerun_send_to_the_new_chat(configured, open_app):
    at = send(open_app(), "First")
    at.button(key="new_chat").click()
    at.chat_input[0].set_value("Meant for a new chat")
    at.run()
    assert conversation_of("Meant for a new chat") not in (None, 1)
    assert [s.value for s in at.subheader if "Meant" in s.value or "New chat" in s.value]


def test_a_back_button_rerun_still_opens_the_conversation_in_the_url(configured, open_app):
    at = send(open_app(), "First")
    at.button(key="new_chat").click().run()
    send(at, "Second")
    at.query_params["c"] = "1"  # Back: a rerun with the older URL and no message
    at.run()
    assert any("First" in m.markdown[0].value for m in at.chat_message if m.markdown)
