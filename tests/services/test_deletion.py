"""Delete hides a conversation at once; Undo restores it within the window; after it, it is gone for good."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from db import repository
from db.models import Conversation, Message, utcnow
from services import conversations
from services.runtime import DELETED_KEPT_FOR, start_runtime


def make_conversation(runtime, user, title: str) -> int:
    with runtime.db.write() as session:
        conversation = repository.create_conversation(session, user, endpoint_id=None, model="m")
        repository.add_message(session, conversation, role="user", content=title, parent_id=None)
        return conversation.id


def test_deleted_conversations_are_purged_once_undo_has_expired(runtime):
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
    old, recent = make_conversation(runtime, user, "old"), make_conversation(runtime, user, "recent")
    conversations.delete(runtime, user, old)
    with runtime.db.write() as session:  # as if deleted long ago
        session.execute(update(Conversation).where(Conversation.id == old).values(
            deleted_at=utcnow() - DELETED_KEPT_FOR - timedelta(minutes=1)))

    conversations.delete(runtime, user, recent)

    with runtime.db.read() as session:
        assert session.get(Conversation, old) is None, "past the undo window: removed with its messages"
        assert not session.scalars(select(Message).where(Message.conversation_id == old)).all()
    conversations.undo_delete(runtime, user, recent)
    with runtime.db.read() as session:
        assert repository.get_conversation(session, user, recent) is not None, "within the window: restored"


def test_a_restart_purges_expired_deletions(runtime):
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
    doomed = make_conversation(runtime, user, "doomed")
    with runtime.db.write() as session:
        session.execute(update(Conversation).where(Conversation.id == doomed).values(
            deleted_at=utcnow() - DELETED_KEPT_FOR - timedelta(minutes=1)))

    restarted = start_runtime(runtime.settings)
    try:
        with restarted.db.read() as session:
            assert session.get(Conversation, doomed) is None
    finally:
        restarted.close()
