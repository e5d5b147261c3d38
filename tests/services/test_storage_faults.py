"""A database that cannot take a write (issue 12): held by another writer past the busy timeout, or out of space.

Nothing the user typed may be lost and nothing may claim to be saved: a refused send raises ChatError (the page puts
the text back in the input) and leaves no trace; a large import writes in short batches that let other writers in,
and a failed one leaves nothing behind. Real SQLite files throughout: the lock is a second connection's
BEGIN IMMEDIATE, the full disk SQLite's own `PRAGMA max_page_count` on every connection of the app's engine.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

import db.engine
from db import repository
from db.engine import Database, WriteFailed
from db.models import Conversation, Message, User, utcnow
from services import conversations, history, import_writer
from services.chat import ChatError, ChatSettings, retry, save_settings, send_message
from services.media_policy import always_load_from
from services.runtime import Runtime, start_runtime
from tests.conftest import make_settings
from tests.fake_openai import FakeOpenAI, Reply
from tests.services.replies import finished, local_user

BUSY_MS = 300  # the app's busy timeout in these tests (15 s in the app): how long a send waits for the lock


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "relaychat.db"


@pytest.fixture
def runtime(sqlite_path: Path, tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Runtime]:
    monkeypatch.setattr(db.engine, "SQLITE_BUSY_TIMEOUT_MS", BUSY_MS)
    settings = make_settings(tmp_path / "data", f"sqlite:///{sqlite_path}", base_url=fake_openai.base_url,
                             model="fake-gpt")
    rt = start_runtime(settings)
    yield rt
    rt.close()


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another writer (a large import in another process, say) holds the database's write lock meanwhile."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def fill_disk(database: Database) -> None:
    """From now on the database file cannot grow: what needs a new page fails with SQLITE_FULL, as on a full disk."""

    @event.listens_for(database.engine, "connect")
    def _no_more_pages(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    database.engine.dispose()  # the pooled connections were opened without the cap


def settings_of(runtime: Runtime) -> ChatSettings:
    with runtime.db.read() as session:
        return ChatSettings(repository.config_endpoint(session, local_user(runtime)).id, "fake-gpt")


def stored(runtime: Runtime) -> tuple[int, list[str]]:
    with runtime.db.read() as session:
        conversations = session.scalar(select(func.count()).select_from(Conversation))
        return conversations, list(session.scalars(select(Message.content).order_by(Message.id)))


# --- the unit of work says what happened ----------------------------------------------------------------------


def test_a_write_past_the_busy_timeout_fails_in_words_and_stores_nothing(runtime, sqlite_path):
    user = local_user(runtime)
    with write_lock(sqlite_path), pytest.raises(WriteFailed, match="the database is busy") as failure:
        with runtime.db.write() as session:
            repository.create_conversation(session, user, endpoint_id=None, model=None)
    assert failure.value.problem == "busy" and "0.3 s" in str(failure.value)
    assert stored(runtime) == (0, [])


def test_a_write_on_a_full_disk_fails_in_words_and_stores_nothing(runtime):
    user = local_user(runtime)
    fill_disk(runtime.db)
    with pytest.raises(WriteFailed, match="the database's disk is full") as failure:
        with runtime.db.write() as session:
            conversation = repository.create_conversation(session, user, endpoint_id=None, model=None)
            repository.add_message(session, conversation, role="user", content="x" * 50_000, parent_id=None)
    assert failure.value.problem == "full"
    assert stored(runtime) == (0, [])


def test_a_read_only_database_fails_in_words(sqlite_path, runtime):
    read_only = Database(f"sqlite:///file:{sqlite_path}?mode=ro&uri=true")
    try:
        with pytest.raises(WriteFailed, match="read-only") as failure:
            with read_only.write() as session:
                repository.ensure_user(session, "someone")
        assert failure.value.problem == "read_only"
    finally:
        read_only.dispose()


# --- a send the database refuses keeps the message and claims nothing -----------------------------------------


@pytest.mark.parametrize("text", ["Keep this, please", "请保留这条消息" * 50], ids=["english", "chinese"])
def test_a_message_sent_while_the_database_is_locked_is_refused_and_stored_nowhere(runtime, fake_openai,
                                                                                  sqlite_path, text):
    user, settings = local_user(runtime), settings_of(runtime)
    with write_lock(sqlite_path), pytest.raises(ChatError) as refused:
        send_message(runtime, user, None, text, settings)
    assert refused.value.field == "message"
    assert str(refused.value).startswith("Your message was not saved and nothing was sent: the database is busy")
    assert stored(runtime) == (0, []) and fake_openai.chat_bodies == []
    # Once the lock is gone the same message goes through.
    fake_openai.enqueue(Reply(content="Got it"))
    turn = send_message(runtime, user, None, text, settings)
    assert finished(runtime, turn.assistant_message_id).content == "Got it"
    assert stored(runtime) == (1, [text, "Got it"])


def test_a_message_in_an_existing_conversation_while_locked_leaves_the_conversation_as_it_was(
        runtime, fake_openai, sqlite_path):
    user, settings = local_user(runtime), settings_of(runtime)
    fake_openai.enqueue(Reply(content="first answer"))
    turn = send_message(runtime, user, None, "first", settings)
    finished(runtime, turn.assistant_message_id)
    with write_lock(sqlite_path), pytest.raises(ChatError, match="the database is busy"):
        send_message(runtime, user, turn.conversation_id, "second", settings)
    assert stored(runtime) == (1, ["first", "first answer"])
    assert len(fake_openai.chat_bodies) == 1


def test_retry_while_locked_is_refused_in_words(runtime, fake_openai, sqlite_path):
    user, settings = local_user(runtime), settings_of(runtime)
    fake_openai.enqueue(Reply(status=500))
    turn = send_message(runtime, user, None, "question", settings)
    finished(runtime, turn.assistant_message_id)
    with write_lock(sqlite_path), pytest.raises(ChatError, match="the database is busy"):
        retry(runtime, user, turn.assistant_message_id, settings)
    assert len(stored(runtime)[1]) == 2


@pytest.mark.parametrize("text", ["x" * 50_000, "满" * 20_000], ids=["long-english", "long-chinese"])
def test_a_message_sent_on_a_full_disk_is_refused_and_stored_nowhere(runtime, fake_openai, text):
    user, settings = local_user(runtime), settings_of(runtime)
    fill_disk(runtime.db)
    with pytest.raises(ChatError) as refused:
        send_message(runtime, user, None, text, settings)
    assert str(refused.value).startswith("Your message was not saved and nothing was sent: the database's disk is full")
    assert stored(runtime) == (0, []) and fake_openai.chat_bodies == []


def test_settings_that_cannot_be_saved_do_not_break_the_page(runtime, fake_openai, sqlite_path):
    user, settings = local_user(runtime), settings_of(runtime)
    fake_openai.enqueue(Reply(content="ok"))
    turn = send_message(runtime, user, None, "hi", settings)
    finished(runtime, turn.assistant_message_id)
    with write_lock(sqlite_path):
        save_settings(runtime, user, turn.conversation_id, ChatSettings(settings.endpoint_id, "other-model"))
    with runtime.db.read() as session:
        assert session.get(Conversation, turn.conversation_id).model == "fake-gpt"  # kept as it was, no crash


# --- imports write in short batches -------------------------------------------------------------------------


def test_always_load_from_a_host_while_locked_says_it_was_not_remembered(runtime, sqlite_path):
    user = local_user(runtime)
    with write_lock(sqlite_path):
        problem = always_load_from(runtime, user, "cdn.example.com")
    assert problem and "cdn.example.com was not remembered" in problem and "busy" in problem
    assert always_load_from(runtime, user, "cdn.example.com") is None  # once the lock is gone


def test_an_import_while_the_database_is_locked_is_refused_in_words(runtime, sqlite_path):
    user = local_user(runtime)
    with write_lock(sqlite_path), pytest.raises(history.ImportFormatError, match="database refused it.*busy"):
        conversations.import_file(runtime, user, backup(1, 3), "backup.json")
    assert stored(runtime)[0] == 0


def backup(conversations: int, messages_each: int) -> bytes:
    def conversation(number: int) -> dict:
        messages = [{"id": i, "parent": i - 1 if i > 1 else None, "role": "user" if i % 2 else "assistant",
                     "content": f"message {i} of conversation {number}"} for i in range(1, messages_each + 1)]
        return {"title": f"Conversation {number}", "messages": messages, "current_leaf": messages_each}

    return json.dumps({"format": "relaychat.backup", "version": 1,
                       "conversations": [conversation(n) for n in range(1, conversations + 1)]}).encode()


def visible_counts(database: Database, user: User) -> tuple[int, int]:
    with database.read() as session:
        ids = [c.id for c in repository.list_conversations(session, user, limit=10_000)]
        count = session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id.in_(ids)))
    return len(ids), count or 0


@pytest.mark.parametrize(("conversations", "messages_each"), [(300, 20), (1, 5_000)],
                         ids=["many-conversations", "one-long-conversation"])
def test_a_large_import_lets_other_writers_in_between_its_batches(db, alice, bob, conversations, messages_each):
    total = conversations * messages_each
    between: list[tuple[int, tuple[int, int]]] = []  # (messages written so far, what alice sees) at each commit

    def another_writer() -> None:
        with db.read() as reader:
            written = reader.scalar(select(func.count()).select_from(Message).where(Message.content != "meanwhile"))
        seen = visible_counts(db, alice)
        with db.write() as other:  # bob sends a message while the import is under way
            conversation = repository.create_conversation(other, bob, endpoint_id=None, model=None)
            repository.add_message(other, conversation, role="user", content="meanwhile", parent_id=None)
        between.append((written or 0, seen))

    @event.listens_for(db._sessions, "after_commit")
    def _another_writer_gets_in(session):  # type: ignore[no-untyped-def]
        if threading.current_thread() is not importer or len(between) > 20:
            return  # only after the import's own commits
        other = threading.Thread(target=another_writer)
        other.start()
        other.join()

    importer = threading.current_thread()

    try:
        result = history.import_file(db, alice, backup(conversations, messages_each), "backup.json")
    finally:
        event.remove(db._sessions, "after_commit", _another_writer_gets_in)

    assert result.message_count == total
    partial = [(written, seen) for written, seen in between if 0 < written < total]
    assert len(partial) >= 2, "other writers got in only after the whole import"
    assert all(seen == (0, 0) for _, seen in partial), "a half-imported conversation was visible"
    assert all(written <= total for written, _ in partial)
    assert visible_counts(db, alice) == (conversations, total)
    with db.read() as session:  # the long conversation's leaf, set by a later batch than its first messages
        last = repository.list_conversations(session, alice, limit=1)[0]
        path = repository.message_path(session, last)
    assert len(path) == messages_each and path[-1].content == f"message {messages_each} of conversation {conversations}"


def test_an_import_that_outlasts_the_undo_window_is_not_purged_halfway(db, alice):
    # Another user's Delete purges every conversation deleted longer ago than the undo window; an import's hidden
    # conversations must not count as such however long it runs.
    purged: list[int] = []

    @event.listens_for(db._sessions, "after_commit")
    def _purge_between_batches(session):  # type: ignore[no-untyped-def]
        if threading.current_thread() is not importer or len(purged) > 3:
            return
        with db.write() as other:
            purged.append(repository.purge_deleted(other, older_than=utcnow() + timedelta(minutes=10)))

    importer = threading.current_thread()
    try:
        result = history.import_file(db, alice, backup(1, 5_000), "backup.json")
    finally:
        event.remove(db._sessions, "after_commit", _purge_between_batches)

    assert purged and not any(purged)
    assert visible_counts(db, alice) == (1, 5_000) and result.message_count == 5_000


def test_an_import_that_runs_out_of_disk_halfway_leaves_nothing(tmp_path, monkeypatch):
    database = Database(f"sqlite:///{tmp_path / 'import.db'}")
    from db.migrate import upgrade_to_head

    upgrade_to_head(database.engine)
    with database.write() as session:
        alice = repository.ensure_user(session, "alice")
    monkeypatch.setattr(import_writer, "BATCH_MESSAGES", 200)

    @event.listens_for(database.engine, "connect")
    def _room_for_a_few_batches(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 40}")

    database.engine.dispose()
    try:
        with pytest.raises(WriteFailed, match="disk is full"):
            history.import_file(database, alice, backup(100, 40), "backup.json")
        assert visible_counts(database, alice) == (0, 0)
        with database.read() as session:  # removed again, not only hidden
            assert session.scalar(select(func.count()).select_from(Conversation)) == 0
            assert session.scalar(select(func.count()).select_from(Message)) == 0
    finally:
        database.dispose()
