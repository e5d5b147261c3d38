"""The sidebar's list on every configured backend: pinned first then newest first, paged without repeats or
gaps, rename, pin, delete with undo, and purging what was deleted long ago."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from db import repository
from db.engine import Database
from db.models import Conversation, Message, User

LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


def new_conversation(session: Any, user: User, minutes: int, *, pinned: bool = False) -> Conversation:
    conversation = repository.create_conversation(session, user, endpoint_id=None, model="m")
    conversation.updated_at = LONG_AGO + timedelta(minutes=minutes)
    conversation.pinned = pinned
    return conversation


def every_page(db: Database, user: User, limit: int, cursor: Any = repository.page_cursor) -> list[int]:
    seen: list[int] = []
    before = None
    with db.read() as session:
        while page := repository.list_conversations(session, user, limit=limit, before=before):
            assert len(page) <= limit
            seen += [c.id for c in page]
            before = cursor(page[-1])
    return seen


def test_pinned_first_then_newest_paged_without_repeats_or_gaps(db: Database, alice: User, bob: User) -> None:
    # Ties on updated_at inside both groups, and pinned rows older than unpinned ones.
    plan = [(0, True), (1, False), (1, False), (1, True), (1, True), (2, False), (3, False), (3, True), (4, False)]
    with db.write() as session:
        for minutes, pinned in plan:
            new_conversation(session, alice, minutes, pinned=pinned)
            new_conversation(session, bob, minutes, pinned=pinned)
        deleted = new_conversation(session, alice, 9)
    with db.write() as session:
        repository.soft_delete_conversation(session, alice, deleted.id)
    with db.read() as session:
        rows = session.scalars(
            select(Conversation).where(Conversation.user_id == alice.id, Conversation.deleted_at.is_(None))
        ).all()
        expected = [c.id for c in sorted(rows, key=lambda c: (c.pinned, c.updated_at, c.id), reverse=True)]

    for limit in (1, 2, 3, 4, 100):
        assert every_page(db, alice, limit) == expected
    assert len(expected) == len(plan)
    assert expected[:4] == [c for c in expected if c in {r.id for r in rows if r.pinned}]


def test_the_older_cursor_still_pages_correctly(db: Database, alice: User) -> None:
    with db.write() as session:
        for minutes, pinned in [(0, True), (1, False), (2, True), (2, False), (3, False)]:
            new_conversation(session, alice, minutes, pinned=pinned)
    assert every_page(db, alice, 2, cursor=lambda c: (c.updated_at, c.id)) == every_page(db, alice, 2)


def test_rename_and_pin(db: Database, alice: User, bob: User) -> None:
    with db.write() as session:
        older, newer = new_conversation(session, alice, 0), new_conversation(session, alice, 1)
    with db.write() as session:
        renamed = repository.rename_conversation(session, alice, older.id, "  Trip\n to   Porto ")
        assert renamed is not None and renamed.title == "Trip to Porto"
        repository.set_pinned(session, alice, older.id, True)
        assert repository.rename_conversation(session, bob, older.id, "stolen") is None
        repository.set_pinned(session, bob, newer.id, True)  # not bob's: nothing happens
        with pytest.raises(ValueError, match="empty"):
            repository.rename_conversation(session, alice, older.id, " ")
    with db.read() as session:
        listed = repository.list_conversations(session, alice)
        assert [(c.id, c.title, c.pinned) for c in listed] == [
            (older.id, "Trip to Porto", True), (newer.id, "New chat", False)
        ]
        assert listed[0].updated_at == LONG_AGO  # renaming and pinning do not reorder by time

    with db.write() as session:
        repository.set_pinned(session, alice, older.id, False)
    with db.read() as session:
        assert [c.id for c in repository.list_conversations(session, alice)] == [newer.id, older.id]


def test_delete_hides_and_undo_restores(db: Database, alice: User, bob: User) -> None:
    with db.write() as session:
        conversation = new_conversation(session, alice, 0, pinned=True)
        repository.add_message(session, conversation, role="user", content="keep me", parent_id=None)
    with db.write() as session:
        repository.soft_delete_conversation(session, bob, conversation.id)  # not bob's
    with db.read() as session:
        assert repository.get_conversation(session, alice, conversation.id) is not None

    with db.write() as session:
        repository.soft_delete_conversation(session, alice, conversation.id)
    with db.read() as session:
        assert repository.list_conversations(session, alice) == []
        assert repository.get_conversation(session, alice, conversation.id) is None  # a deep link finds nothing
    with db.write() as session:
        assert repository.restore_conversation(session, bob, conversation.id) is None
    with db.write() as session:
        restored = repository.restore_conversation(session, alice, conversation.id)
        assert restored is not None and restored.pinned and restored.deleted_at is None
    with db.read() as session:
        assert [c.id for c in repository.list_conversations(session, alice)] == [conversation.id]
        assert [m.content for m in repository.message_path(session, restored)] == ["keep me"]


def test_purge_removes_only_what_was_deleted_before_the_cutoff(db: Database, alice: User, bob: User) -> None:
    with db.write() as session:
        old = new_conversation(session, alice, 0)
        recent = new_conversation(session, bob, 0)
        alive = new_conversation(session, alice, 0)
        for conversation in (old, recent, alive):
            parent = None
            for number in range(1_100):  # longer than SQLite's 1,000 nested cascades
                parent = repository.add_message(
                    session, conversation, role="user", content=f"m{number}", parent_id=parent
                ).id
    with db.write() as session:
        repository.soft_delete_conversation(session, alice, old.id)
        repository.soft_delete_conversation(session, bob, recent.id)
        session.get(Conversation, old.id).deleted_at = LONG_AGO  # type: ignore[union-attr]

    with db.write() as session:
        assert repository.purge_deleted(session, older_than=LONG_AGO + timedelta(days=1)) == 1
    with db.read() as session:
        assert set(session.scalars(select(Conversation.id))) == {recent.id, alive.id}
        counts = dict(
            session.execute(select(Message.conversation_id, func.count()).group_by(Message.conversation_id)).all()
        )
        assert counts == {recent.id: 1_100, alive.id: 1_100}
        assert repository.restore_conversation(session, alice, old.id) is None
