"""history: pin, soft delete, the sidebar index and full-text search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

SQLite gets FTS5 external-content tables over messages.content and conversations.title, kept in step by
triggers (only when this SQLite has FTS5; search falls back to LIKE otherwise). PostgreSQL gets a stored
generated column messages.search_vector = to_tsvector('simple', content) with a GIN index, and a GIN index on
to_tsvector('simple', title). Later migrations that make SQLite copy `messages` or `conversations` (batch mode)
drop these triggers with the old table and must create them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import OperationalError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# external-content FTS5 tables: they index the rows of the source table and read its text back for snippets
SQLITE_FTS = {
    "messages_fts": ("messages", "content"),
    "conversations_fts": ("conversations", "title"),
}
TOKENIZER = "unicode61 remove_diacritics 2"


def upgrade() -> None:
    # Plain ALTER TABLE, never batch mode: SQLite batch mode copies the table and drops the old one, and with
    # foreign keys on, dropping `conversations` deletes every message by cascade. (A text default keeps
    # add_column an ALTER; '0' reads as false on both databases.)
    op.add_column("conversations", sa.Column("pinned", sa.Boolean(), server_default="0", nullable=False))
    op.add_column("conversations", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_conversations_sidebar", "conversations", ["user_id", "pinned", "updated_at", "id"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite" and _sqlite_has_fts5():
        for fts_table, (table, column) in SQLITE_FTS.items():
            _create_sqlite_fts(fts_table, table, column)
    elif dialect == "postgresql":
        # A stored vector, not an index on the expression: search reads the newest messages first, and
        # recomputing to_tsvector for each row it passes took 30 s at 1,000,000 messages (about 35 µs a row).
        # The column stays out of the models; the database fills it.
        op.execute(
            "ALTER TABLE messages ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED"
        )
        op.create_index("ix_messages_content_search", "messages", ["search_vector"], postgresql_using="gin")
        op.create_index(
            "ix_conversations_title_search", "conversations", [sa.text("to_tsvector('simple', title)")],
            postgresql_using="gin",
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for fts_table in SQLITE_FTS:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts_table}_{event}")
            op.execute(f"DROP TABLE IF EXISTS {fts_table}")
    elif dialect == "postgresql":
        op.drop_index("ix_conversations_title_search", table_name="conversations")
        op.drop_index("ix_messages_content_search", table_name="messages")
        op.drop_column("messages", "search_vector")

    # ALTER TABLE DROP COLUMN needs SQLite 3.35 (Python 3.11 ships newer); batch mode would lose data, see above.
    op.drop_index("ix_conversations_sidebar", table_name="conversations")
    op.drop_column("conversations", "deleted_at")
    op.drop_column("conversations", "pinned")


def _sqlite_has_fts5() -> bool:
    """Whether this SQLite was built with FTS5 (Python's usually is; some distributions' are not)."""
    connection = op.get_bind()
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE VIRTUAL TABLE temp.relaychat_fts5_probe USING fts5(x)")
            connection.exec_driver_sql("DROP TABLE temp.relaychat_fts5_probe")
    except OperationalError:
        return False
    return True


def _create_sqlite_fts(fts_table: str, table: str, column: str) -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE {fts_table} USING fts5("
        f"{column}, content='{table}', content_rowid='id', tokenize='{TOKENIZER}')"
    )
    # An external-content index forgets a row by being told its old text, hence the 'delete' commands.
    op.execute(
        f"CREATE TRIGGER {fts_table}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts_table}(rowid, {column}) VALUES (new.id, new.{column}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts_table}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts_table}({fts_table}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END"
    )
    # Only text changes re-index: streaming heartbeats and leaf moves update other columns constantly.
    op.execute(
        f"CREATE TRIGGER {fts_table}_update AFTER UPDATE OF {column} ON {table} "
        f"WHEN old.{column} IS NOT new.{column} BEGIN "
        f"INSERT INTO {fts_table}({fts_table}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO {fts_table}(rowid, {column}) VALUES (new.id, new.{column}); END"
    )
    op.execute(f"INSERT INTO {fts_table}({fts_table}) VALUES ('rebuild')")
