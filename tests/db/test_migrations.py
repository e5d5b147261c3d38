"""The schema: a fresh database migrated to head has exactly the expected tables and columns, and the models
in db/models.py describe that schema (so models and migrations cannot drift apart)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from db.engine import SQLITE_BUSY_TIMEOUT_MS, Database
from db.migrate import current_revision, head_revision, upgrade_to_head
from db.models import Base, Conversation, User
from db.search import made_by_migration

EXPECTED_COLUMNS = {
    "alembic_version": {"version_num"},
    "users": {"id", "name", "is_admin", "created_at"},
    "endpoints": {
        "id", "user_id", "name", "base_url", "api_key_encrypted", "api_key_mask", "extra_headers",
        "extra_headers_encrypted", "default_model", "is_default", "source", "supports_stream_usage", "max_tokens_field", "title_model", "created_at",
        "updated_at",
    },
    "conversations": {
        "id", "user_id", "endpoint_id", "title", "model", "system_prompt", "params", "current_leaf_id", "pinned",
        "deleted_at", "created_at", "updated_at",
    },
    "messages": {
        "id", "conversation_id", "parent_id", "role", "content", "reasoning", "tool_calls", "model", "request",
        "response_meta", "status", "finish_reason", "prompt_tokens", "completion_tokens", "total_tokens",
        "time_to_first_token_ms", "duration_ms", "error", "created_at", "updated_at", "tool_call_id", "choices",
        "chosen_index", "attachments",
    },
    "presets": {"id", "user_id", "name", "system_prompt", "params", "builtin", "created_at"},
    "media_hosts": {"id", "user_id", "host", "created_at"},
    "settings_drafts": {"user_id", "conversation_id", "settings", "updated_at"},
}


def sqlite_has_fts5() -> bool:
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    return True


def search_tables(database: Database) -> set[str]:
    """Full-text search on SQLite: FTS5 tables per searched column, plus the shadow tables FTS5 keeps."""
    if not database.is_sqlite or not sqlite_has_fts5():
        return set()  # PostgreSQL searches with GIN indexes; a SQLite without FTS5 falls back to LIKE
    shadows = ("", "_config", "_data", "_docsize", "_idx")
    words = {f"{table}_fts{shadow}" for table in ("messages", "conversations") for shadow in shadows}
    # Migration 0006: the trigram index of unspaced scripts (contentless, no column sizes) and its vocabulary.
    trigrams = {f"{table}_cjk_fts{shadow}" for table in ("messages", "conversations")
                for shadow in ("", "_config", "_data", "_idx", "_vocab")}
    return words | trigrams | {"messages_fts_vocab", "conversations_fts_vocab"}


def search_columns(database: Database) -> dict[str, set[str]]:
    """Full-text search on PostgreSQL: each message's tsvector in a generated column (it has a GIN index)."""
    return {} if database.is_sqlite else {"messages": {"search_vector"}}


def managed_by_models(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Search lives outside the models: FTS5 tables on SQLite, `to_tsvector` GIN indexes on PostgreSQL."""
    return not made_by_migration(type_, name)


def schema(database: Database) -> dict[str, dict[str, str]]:
    """Every table's columns with their types, as the database reports them."""
    inspector = inspect(database.engine)
    return {
        table: {column["name"]: str(column["type"]) for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def test_fresh_database_has_exactly_the_expected_tables_and_columns(db: Database) -> None:
    tables = schema(db)
    assert set(tables) == set(EXPECTED_COLUMNS) | search_tables(db)
    expected = {table: columns | search_columns(db).get(table, set()) for table, columns in EXPECTED_COLUMNS.items()}
    assert {table: set(tables[table]) for table in EXPECTED_COLUMNS} == expected


def test_message_tree_and_foreign_keys(db: Database) -> None:
    inspector = inspect(db.engine)
    foreign_keys = {
        (fk["constrained_columns"][0], fk["referred_table"], fk["options"].get("ondelete"))
        for fk in inspector.get_foreign_keys("messages")
    }
    assert foreign_keys == {("conversation_id", "conversations", "CASCADE"), ("parent_id", "messages", "CASCADE")}
    nullable = {column["name"]: column["nullable"] for column in inspector.get_columns("messages")}
    assert nullable["parent_id"] is True  # the first message of a conversation has no parent
    assert nullable["status"] is False


def test_current_revision_is_head(db: Database) -> None:
    assert head_revision() is not None
    assert current_revision(db.engine) == head_revision()


def test_upgrading_twice_changes_nothing(db: Database) -> None:
    with db.write() as session:
        session.add(User(name="alice"))
    before = schema(db)

    upgrade_to_head(db.engine)

    assert schema(db) == before
    assert current_revision(db.engine) == head_revision()
    with db.read() as session:
        assert session.scalars(select(User.name)).all() == ["alice"]


def test_models_match_the_migrated_schema(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": managed_by_models}
        )
        assert compare_metadata(context, Base.metadata) == []


# --- SQLite connection settings ----------------------------------------------------------------------------


def test_sqlite_file_is_created_with_its_folder(sqlite_db: Database, tmp_path: Path) -> None:
    assert (tmp_path / "data" / "relaychat.db").is_file()


def test_every_sqlite_connection_has_wal_busy_timeout_and_foreign_keys(sqlite_db: Database) -> None:
    # Two connections open at once: both come from the pool's connect hook, not just the first.
    with sqlite_db.engine.connect() as first, sqlite_db.engine.connect() as second:
        for connection in (first, second):
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_enforces_foreign_keys(sqlite_db: Database) -> None:
    with pytest.raises(IntegrityError):
        with sqlite_db.write() as session:
            session.add(Conversation(user_id=12345))
    with sqlite_db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM conversations")) == 0
