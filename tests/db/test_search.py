"""Search over titles and message text: full-text search where the database has it (SQLite FTS5, PostgreSQL)
and the LIKE fallback, on every configured backend; the search index follows every change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from db import repository, search
from db.engine import Database
from db.migrate import _config, upgrade_to_head
from db.models import Conversation, Message, User
from db.search import SearchHit, Segment


@pytest.fixture(params=["full_text", "like"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each search test runs with the database's own full-text search and with the LIKE fallback forced."""
    if request.param == "like":
        monkeypatch.setattr(search, "search_method", lambda session: "like")
    return str(request.param)


def conversation_with(db: Database, user: User, *texts: str, title: str = "chat") -> tuple[int, list[int]]:
    """A conversation whose messages alternate user/assistant in a chain; returns its id and the message ids.
    Its title is "chat" unless given, so that only messages match."""
    with db.write() as session:
        conversation = repository.create_conversation(session, user, endpoint_id=None, model="m")
        ids: list[int] = []
        for number, content in enumerate(texts):
            role = "user" if number % 2 == 0 else "assistant"
            ids.append(
                repository.add_message(
                    session, conversation, role=role, content=content, parent_id=ids[-1] if ids else None
                ).id
            )
        conversation.title = title
        return conversation.id, ids


def find(db: Database, user: User, query: str, **options: Any) -> list[SearchHit]:
    with db.read() as session:
        return search.search_messages(session, user, query, **options)


def marked(hit: SearchHit) -> list[str]:
    return [segment.text for segment in hit.snippet if segment.is_match]


def plain(hit: SearchHit) -> str:
    return "".join(segment.text for segment in hit.snippet)


def test_each_backend_uses_its_full_text_search(db: Database) -> None:
    with db.read() as session:
        assert search.search_method(session) == ("fts5" if db.is_sqlite else "postgresql")


def test_finds_messages_with_every_word_newest_first(db: Database, alice: User, method: str) -> None:
    _, (question, answer) = conversation_with(
        db, alice, "How do I bake sourdough bread?", "Feed the starter, then bake the bread hot."
    )
    _, (other, _) = conversation_with(db, alice, "Bread without yeast?", "Soda bread.")

    hits = find(db, alice, "bread BAKE")

    assert [hit.message_id for hit in hits] == [answer, question]
    assert all(hit.role in ("user", "assistant") for hit in hits)
    assert [m.casefold() for m in marked(hits[0])] == ["bake", "bread"]
    assert plain(hits[1]) == "How do I bake sourdough bread?"
    assert [hit.message_id for hit in find(db, alice, "bread")][-1] == question
    assert other in [hit.message_id for hit in find(db, alice, "bread")]


def test_the_last_word_matches_as_a_prefix(db: Database, alice: User, method: str) -> None:
    conversation_id, (message_id,) = conversation_with(db, alice, "Configure the reverse proxy")

    assert [hit.message_id for hit in find(db, alice, "reverse prox")] == [message_id]
    if method != "like":  # LIKE finds each word anywhere, even inside another
        assert find(db, alice, "rever proxy") == []  # only the last word is a prefix
    # Full-text search marks the whole word it matched; LIKE marks what was typed.
    assert marked(find(db, alice, "prox")[0]) == (["prox"] if method == "like" else ["proxy"])


def test_titles_match_first_with_the_title_highlighted(db: Database, alice: User, method: str) -> None:
    titled, _ = conversation_with(db, alice, "something else", title="Kubernetes upgrade notes")
    _, (message_id,) = conversation_with(db, alice, "Is kubernetes worth it for one server?", title="k8s?")

    hits = find(db, alice, "kubernetes")

    assert [(hit.conversation_id, hit.message_id) for hit in hits][0] == (titled, None)
    assert hits[0].title == "Kubernetes upgrade notes" and hits[0].role is None
    assert hits[0].snippet == (Segment("Kubernetes", True), Segment(" upgrade notes", False))
    assert hits[1].message_id == message_id
    assert hits[1].title == "k8s?"


def test_limit_counts_titles_and_messages(db: Database, alice: User, method: str) -> None:
    conversation_with(db, alice, *[f"lemon {n}" for n in range(6)], title="lemon tart")
    hits = find(db, alice, "lemon", limit=4)
    assert len(hits) == 4 and hits[0].message_id is None
    assert find(db, alice, "lemon", limit=0) == []


def test_other_users_and_deleted_conversations_are_never_found(
    db: Database, alice: User, bob: User, method: str
) -> None:
    conversation_with(db, bob, "bob's secret pancake recipe", title="pancakes")
    deleted, _ = conversation_with(db, alice, "pancake batter", title="pancake batter")
    kept, _ = conversation_with(db, alice, "pancake toppings")
    with db.write() as session:
        repository.soft_delete_conversation(session, alice, deleted)

    assert {hit.conversation_id for hit in find(db, alice, "pancake")} == {kept}

    with db.write() as session:
        repository.restore_conversation(session, alice, deleted)
    assert {hit.conversation_id for hit in find(db, alice, "pancake")} == {kept, deleted}


def test_older_matches_come_after_the_recent_ones(
    db: Database, alice: User, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads the newest RECENT_MESSAGES one by one, then asks the index for the older matches.
    monkeypatch.setattr(search, "RECENT_MESSAGES", 3)
    ids = [conversation_with(db, alice, f"{'walnut' if n % 2 == 0 else 'pecan'} number {n}")[1][0] for n in range(8)]

    assert [hit.message_id for hit in find(db, alice, "walnut")] == [ids[6], ids[4], ids[2], ids[0]]
    assert [hit.message_id for hit in find(db, alice, "walnut", limit=2)] == [ids[6], ids[4]]
    assert [hit.message_id for hit in find(db, alice, "number")] == ids[::-1]
    assert [hit.message_id for hit in find(db, alice, "pecan numb", limit=3)] == [ids[7], ids[5], ids[3]]


@pytest.mark.parametrize(
    "query",
    ['"', 'say "hi', "AND OR NOT", "NEAR(a b)", "content:x", "a*b", "-x", "^start", "'", "\\", "(", "a & b | !c",
     "100%", "_", "x:*", "😀", "  "],
)
def test_any_typed_query_is_safe(db: Database, alice: User, method: str, query: str) -> None:
    conversation_with(db, alice, "plain text with 100% and snake_case and say \"hi\" there")
    find(db, alice, query)  # never a syntax error from the search engine


def test_operators_and_wildcards_are_plain_words(db: Database, alice: User, method: str) -> None:
    _, (percent,) = conversation_with(db, alice, "It rose by 100% this year")
    _, (thousand,) = conversation_with(db, alice, "It rose by 1000 this year")

    # Words, not operators: no message has "NOT" or "OR" in it.
    assert find(db, alice, "NOT rose") == [] and find(db, alice, "rose OR fell") == []
    hits = {hit.message_id for hit in find(db, alice, "100%")}
    if method == "like":
        assert hits == {percent}  # % is not a LIKE wildcard
    else:
        assert hits == {percent, thousand}  # full-text search drops punctuation, and the last word is a prefix
        assert find(db, alice, "-rose") == find(db, alice, "rose")  # - is not "without"


def test_long_messages_are_cut_around_the_match(db: Database, alice: User, method: str) -> None:
    filler = " ".join(f"word{n}" for n in range(300))
    conversation_with(db, alice, f"{filler} the needle is here {filler}")

    (hit,) = find(db, alice, "needle")

    assert marked(hit) == ["needle"]
    assert plain(hit).startswith("…") and plain(hit).endswith("…")
    assert len(plain(hit)) < 250


def test_the_index_follows_edits_and_deletes(db: Database, alice: User, method: str) -> None:
    conversation_id, (first, second) = conversation_with(db, alice, "apricot jam", "streaming…")
    with db.write() as session:
        repository.save_message_progress(session, second, content="a quince paste instead")
        repository.rename_conversation(session, alice, conversation_id, "Preserves")

    assert [hit.message_id for hit in find(db, alice, "quince")] == [second]
    assert find(db, alice, "streaming") == []
    assert [hit.message_id for hit in find(db, alice, "preserves")] == [None]

    with db.write() as session:
        session.delete(session.get(Message, second))
    assert find(db, alice, "quince") == []
    with db.write() as session:
        repository.delete_conversation(session, alice, conversation_id)
    assert find(db, alice, "apricot") == [] and find(db, alice, "preserves") == []


def test_segments_split_marked_text() -> None:
    start, end = search.MATCH_START, search.MATCH_END
    assert search.segments(f"a {start}b{end}{start}c{end} d") == (
        Segment("a ", False), Segment("bc", True), Segment(" d", False)
    )
    assert search.segments("") == ()
    assert search.segments(f"{start}x{end}") == (Segment("x", True),)


def test_query_syntax_builders() -> None:
    assert search.fts5_query(['say"', "hi"]) == '"say""" "hi"*'
    assert search.tsquery(["it's", "a\\b"]) == "'it''s' & 'a\\\\b':*"
    assert search.query_terms(' ( foo  "" bar* ') == ["foo", "bar*"]


# --- SQLite without FTS5, and the migration ----------------------------------------------------------------


def drop_sqlite_search(database: Database) -> None:
    """What a SQLite built without FTS5 ends up with: migration 0002 created no search tables or triggers."""
    with database.engine.begin() as connection:
        for table in ("messages_fts", "conversations_fts"):
            for event in ("insert", "update", "delete"):
                connection.exec_driver_sql(f"DROP TRIGGER {table}_{event}")
            connection.exec_driver_sql(f"DROP TABLE {table}")


def test_sqlite_without_fts5_falls_back_to_like(db: Database, alice: User) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    drop_sqlite_search(db)
    _, (message_id,) = conversation_with(db, alice, "Tell me about Lisbon trams")

    with db.read() as session:
        assert search.search_method(session) == "like"
    (hit,) = find(db, alice, "lisbon TRAM")
    assert hit.message_id == message_id
    assert marked(hit) == ["Lisbon", "tram"]


@pytest.fixture
def at_revision_0001(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    migrate(database, "0001")
    yield database
    database.dispose()


def migrate(database: Database, revision: str, *, down: bool = False) -> None:
    with database.engine.connect().execution_options(sqlite_immediate=True) as connection:
        config = _config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
        connection.commit()


def test_migration_indexes_existing_messages_and_downgrades_cleanly(at_revision_0001: Database) -> None:
    database = at_revision_0001
    with database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'old', false, '2020-01-01')")
        )
        connection.execute(
            text(
                "INSERT INTO conversations (id, user_id, title, system_prompt, params, created_at, updated_at) "
                "VALUES (1, 1, 'Older chat about herbs', '', '{}', '2020-01-01', '2020-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO messages (id, conversation_id, role, content, status, created_at, updated_at) "
                "VALUES (1, 1, 'user', 'Does basil like sun?', 'complete', '2020-01-01', '2020-01-01')"
            )
        )

    upgrade_to_head(database.engine)
    with database.read() as session:
        assert session.scalar(text("SELECT count(*) FROM messages")) == 1
        user = repository.get_user(session, "old")
        assert user is not None
        assert [hit.message_id for hit in search.search_messages(session, user, "basil")] == [1]
        assert [hit.conversation_id for hit in search.search_messages(session, user, "herbs")] == [1]
        conversation = session.get(Conversation, 1)
        assert conversation is not None and conversation.pinned is False and conversation.deleted_at is None

    migrate(database, "0001", down=True)
    with database.engine.connect() as connection:
        # SQLite batch mode (copy the table, drop the old one) would have deleted the messages by cascade.
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 1
        tables = set(connection.dialect.get_table_names(connection))
        columns = {c["name"] for c in connection.dialect.get_columns(connection, "conversations")}
        indexes = {i["name"] for i in connection.dialect.get_indexes(connection, "messages")}
    assert not {t for t in tables if "_fts" in t}
    assert {"pinned", "deleted_at"}.isdisjoint(columns)
    assert "ix_messages_content_search" not in indexes

    upgrade_to_head(database.engine)  # and back up again
    with database.read() as session:
        user = repository.get_user(session, "old")
        assert user is not None
        assert [hit.message_id for hit in search.search_messages(session, user, "basil")] == [1]
