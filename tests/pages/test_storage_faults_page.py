"""The chat page when the database refuses a send (issue 12): the message stays in the input, the page says it was
not saved, and nothing claims otherwise. Real SQLite file, locked by a second connection or unable to grow."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

import db.engine
from db.models import Message
from tests.fake_openai import Reply


@pytest.fixture
def sqlite_file(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("the busy timeout and max_page_count are SQLite's")
    monkeypatch.setattr(db.engine, "SQLITE_BUSY_TIMEOUT_MS", 300)  # the app waits 15 s; these tests 0.3 s
    return Path(make_url(database_url).database)


def app_db():
    from ui.resources import runtime

    return runtime().db


def typed_message(at) -> str:
    return at.chat_input[0].proto.value


def messages_stored() -> int:
    with app_db().read() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def errors(at) -> list[str]:
    return [error.value for error in at.error]


@pytest.mark.parametrize("text", ["Please keep this", "不要丢掉我的消息"], ids=["english", "chinese"])
def test_a_message_sent_while_the_database_is_locked_stays_in_the_input(configured, open_app, sqlite_file, text):
    at = open_app()
    other = sqlite3.connect(sqlite_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer (a large import) holds the lock past the busy timeout
    try:
        at.chat_input[0].set_value(text).run()
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert not at.exception
    assert typed_message(at) == text
    notice = " ".join(errors(at))
    assert "Your message was not saved" in notice and "the database is busy" in notice
    assert "back in the input" in notice
    assert not any("is saved" in error for error in errors(at))
    assert messages_stored() == 0 and configured.chat_bodies == []

    configured.enqueue(Reply(content="Now it worked"))
    at.chat_input[0].set_value(typed_message(at)).run()  # the user presses Enter again
    assert messages_stored() == 2 and configured.chat_bodies[0]["messages"][-1]["content"] == text


def test_a_message_sent_on_a_full_disk_stays_in_the_input(configured, open_app, sqlite_file):
    at = open_app()
    database = app_db()

    @event.listens_for(database.engine, "connect")
    def _no_more_pages(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    database.engine.dispose()
    text = "A long message that needs room on the disk. " * 1000
    at.chat_input[0].set_value(text).run()

    assert not at.exception
    assert typed_message(at) == text
    notice = " ".join(errors(at))
    assert "Your message was not saved" in notice and "disk is full" in notice
    assert messages_stored() == 0 and configured.chat_bodies == []


def test_a_page_that_cannot_write_says_so_instead_of_claiming_it_saved(configured, open_app, sqlite_file):
    """Opening a conversation whose reply lost its writer marks the reply interrupted: a write. With the database
    locked that write fails, and the page must not say "Your conversation is saved"."""
    from datetime import timedelta

    from db import repository
    from db.models import utcnow

    open_app()
    with app_db().write() as session:
        user = repository.ensure_user(session)
        conversation = repository.create_conversation(session, user, endpoint_id=None, model="fake-gpt")
        question = repository.add_message(session, conversation, role="user", content="q", parent_id=None)
        repository.add_message(session, conversation, role="assistant", content="half", parent_id=question.id,
                               status="streaming", updated_at=utcnow() - timedelta(minutes=5))
        conversation_id = conversation.id
    other = sqlite3.connect(sqlite_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        at = open_app(c=str(conversation_id))
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert not at.exception
    assert any(error.startswith("Your last change was not saved: the database is busy") for error in errors(at))
    assert not any("is saved" in error for error in errors(at))
