"""Search Chinese, Japanese, Korean and other text written without spaces by substring

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The word indexes of 0002 see `我们做抽奖系统` as one word, so `抽奖` finds nothing. Text that has a character of
such a script is indexed a second time, by trigrams, and queried by substring:

- SQLite (with FTS5 3.34+, which has the trigram tokenizer): contentless FTS5 tables messages_cjk_fts and
  conversations_cjk_fts, fed by triggers with the rows whose text has such a character (English-only text costs
  nothing more), plus fts5vocab tables to look up the trigrams a one- or two-character query begins (and the
  words of 0002's word indexes, for the last word of a mixed query). The text is
  indexed with PADDING appended so that a short query at the very end of a text begins a trigram too.
- PostgreSQL: two partial GIN indexes on the messages with such text (the query repeats their predicate): pg_trgm
  for terms of three characters or more, and relaychat_short_substrings(content), every one- and two-character
  substring, for shorter terms (pg_trgm finds no substring shorter than a trigram). Titles are few per user and
  short: they are scanned.

Existing rows are indexed here. Later migrations that make SQLite copy `messages` or `conversations` (batch mode)
drop these triggers with the old table and must create them again.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# A frozen copy of db.unspaced.RANGES and PADDING (a test checks they agree).
RANGES = ((0x0E00, 0x0EFF), (0x3000, 0x9FFF), (0xAC00, 0xD7AF))
PADDING = "\ue002\ue002"
POSTGRESQL_REGEX = "'[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in RANGES) + "]'"
# SQLite: GLOB '*[…]*' reads 650 ns a character (it parses the class again at every position), 50 ms for a
# long reply at every save. The UTF-8 lead bytes of those ranges are found by instr() on the text's bytes at
# ~7 ns a byte each, after a check that the text is not plain ASCII (one pass). A lead byte never occurs
# inside another character, so this finds every such text, and a few others (E0: U+0800-0FFF; EA: U+A000-ABFF).
LEAD_BYTES = ("E4", "E5", "E6", "E7", "E8", "E9", "E3", "EA", "EB", "EC", "ED", "E0")


def sqlite_has_script(value: str) -> str:
    """SQL true when the UTF-8 text `value` (an SQL expression) has a character in RANGES."""
    data = f"CAST({value} AS BLOB)"
    return f"(length({data}) > length({value}) AND (" + " OR ".join(f"instr({data}, X'{b}')" for b in LEAD_BYTES) + "))"


WORD_TABLES = ("messages_fts", "conversations_fts")
SQLITE_TABLES = {"messages_cjk_fts": ("messages", "content"), "conversations_cjk_fts": ("conversations", "title")}
TRIGRAM_INDEX = "ix_messages_content_cjk_search"
SHORT_INDEX = "ix_messages_content_cjk_short_search"
SHORT_FUNCTION = (
    # Linear in the text's length: substr(value, start, …) walks UTF-8 from the start on every call, so a
    # generate_series over positions took minutes for a 100,000-character reply, at every save of its progress.
    "CREATE FUNCTION relaychat_short_substrings(value text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
    "$$ SELECT coalesce(array_agg(DISTINCT lower(gram)), '{}') FROM ("
    "SELECT unnest(ARRAY[c, c || next]) AS gram FROM ("
    "SELECT c, lead(c) OVER (ORDER BY position) AS next "
    "FROM unnest(string_to_array(value, NULL)) WITH ORDINALITY AS chars(c, position)) AS pairs"
    ") AS grams WHERE gram IS NOT NULL $$"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite" and _sqlite_has_trigram():
        for fts_table, (table, column) in SQLITE_TABLES.items():
            _create_sqlite_trigram(fts_table, table, column)
        # The words of 0002's indexes, to spell out the prefix of a mixed query (`抽奖 sys`): see db/unspaced.py.
        for words_table in WORD_TABLES:
            op.execute(f"CREATE VIRTUAL TABLE {words_table}_vocab USING fts5vocab({words_table}, row)")
    elif dialect == "postgresql":
        if _postgresql_has_trigram():
            op.execute(
                f"CREATE INDEX {TRIGRAM_INDEX} ON messages USING gin (content gin_trgm_ops) "
                f"WHERE content ~ {POSTGRESQL_REGEX}"
            )
        op.execute(SHORT_FUNCTION)
        op.execute(
            f"CREATE INDEX {SHORT_INDEX} ON messages USING gin (relaychat_short_substrings(content)) "
            f"WHERE content ~ {POSTGRESQL_REGEX}"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for words_table in WORD_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {words_table}_vocab")
        for fts_table in SQLITE_TABLES:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts_table}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {fts_table}_vocab")
            op.execute(f"DROP TABLE IF EXISTS {fts_table}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
        op.execute(f"DROP INDEX IF EXISTS {SHORT_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS relaychat_short_substrings(text)")


def _sqlite_has_trigram() -> bool:
    connection = op.get_bind()
    if not connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").scalar():
        return False  # no FTS5 at all: search uses LIKE, which finds substrings already
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(
                "CREATE VIRTUAL TABLE temp.relaychat_trigram_probe USING fts5(x, tokenize='trigram')"
            )
            connection.exec_driver_sql("DROP TABLE temp.relaychat_trigram_probe")
    except DBAPIError:
        return False
    return True


def _postgresql_has_trigram() -> bool:
    """pg_trgm ships with PostgreSQL, but creating an extension may need rights the app's role lacks: without it,
    terms of three characters or more are still found, unindexed."""
    connection = op.get_bind()
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError:
        return False
    return True


def _create_sqlite_trigram(fts_table: str, table: str, column: str) -> None:
    # Contentless: the index holds exactly the padded text the triggers give it, which must be given again to
    # forget a row. The message text is read from `table` for snippets.
    # No column sizes: they serve ranking by relevance (bm25), and search ranks newest first.
    op.execute(f"CREATE VIRTUAL TABLE {fts_table} USING fts5({column}, content='', columnsize=0, tokenize='trigram')")
    op.execute(f"CREATE VIRTUAL TABLE {fts_table}_vocab USING fts5vocab({fts_table}, row)")
    indexed = f"{column} || '{PADDING}'"
    add = (
        f"INSERT INTO {fts_table}(rowid, {column}) "
        f"SELECT new.id, new.{indexed} WHERE {sqlite_has_script(f'new.{column}')};"
    )
    forget = (
        f"INSERT INTO {fts_table}({fts_table}, rowid, {column}) "
        f"SELECT 'delete', old.id, old.{indexed} WHERE {sqlite_has_script(f'old.{column}')};"
    )
    op.execute(f"CREATE TRIGGER {fts_table}_insert AFTER INSERT ON {table} BEGIN {add} END")
    op.execute(f"CREATE TRIGGER {fts_table}_delete AFTER DELETE ON {table} BEGIN {forget} END")
    # Only text changes re-index (streaming heartbeats update other columns). One trigger, so that the old text
    # is forgotten before the new one is added; a streamed reply may gain its first such character at any save.
    op.execute(
        f"CREATE TRIGGER {fts_table}_update AFTER UPDATE OF {column} ON {table} "
        f"WHEN old.{column} IS NOT new.{column} BEGIN {forget} {add} END"
    )
    op.execute(
        f"INSERT INTO {fts_table}(rowid, {column}) "
        f"SELECT id, {indexed} FROM {table} WHERE {sqlite_has_script(column)}"
    )
