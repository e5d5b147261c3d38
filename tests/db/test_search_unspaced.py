"""Chinese, Japanese, Korean (and other text written without spaces) are found by any substring of their text, on
every backend, with the substring highlighted; English words keep their word search (tests/db/test_search.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from db import repository, search, unspaced
from db.engine import Database
from db.migrate import upgrade_to_head
from db.models import Message, User
from tests.db.test_search import conversation_with, find, marked, migrate, plain

LOTTERY = "我们做一个抽奖系统，中奖的期望值要算清楚。"
MIGRATION = Path(__file__).parents[2] / "db" / "migrations" / "versions" / "0006_unspaced_search.py"


@pytest.fixture(params=["full_text", "like"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "like":
        monkeypatch.setattr(search, "search_method", lambda session: "like")
    return str(request.param)


def ids(hits: list[search.SearchHit]) -> list[int | None]:
    return [hit.message_id for hit in hits]


def test_any_chinese_substring_of_two_or_more_characters_is_found(db: Database, alice: User, method: str) -> None:
    _, (question, answer) = conversation_with(db, alice, LOTTERY, "可以，先定义奖池。")

    for query in ("抽奖", "期望", "抽奖系统", "中奖的期望值", "奖池", "清楚"):
        assert ids(find(db, alice, query)) == ([answer] if query == "奖池" else [question]), query
    (hit,) = find(db, alice, "抽奖系统")
    assert marked(hit) == ["抽奖系统"] and plain(hit) == LOTTERY
    assert find(db, alice, "抽签") == [] and find(db, alice, "系统抽奖") == []


def test_a_term_at_the_very_end_or_a_whole_short_text_is_found(db: Database, alice: User, method: str) -> None:
    _, (ending, whole, single) = conversation_with(db, alice, "今天做抽奖", "抽奖", "猫")

    assert ids(find(db, alice, "抽奖")) == [whole, ending]
    assert ids(find(db, alice, "做抽奖")) == [ending]
    # One character: every message that has it (in Chinese, often a whole word).
    assert ids(find(db, alice, "猫")) == [single]
    assert ids(find(db, alice, "奖")) == [whole, ending]


def test_titles_match_first_and_are_highlighted(db: Database, alice: User, method: str) -> None:
    titled, _ = conversation_with(db, alice, "随便聊聊", title="关于抽奖系统的设计")
    _, (message,) = conversation_with(db, alice, LOTTERY, title="chat")

    hits = find(db, alice, "抽奖")

    assert [(hit.conversation_id, hit.message_id) for hit in hits][0] == (titled, None)
    assert hits[0].snippet == (
        search.Segment("关于", False), search.Segment("抽奖", True), search.Segment("系统的设计", False)
    )
    assert ids(hits)[1:] == [message]


def test_japanese_and_korean(db: Database, alice: User, method: str) -> None:
    _, (japanese, korean) = conversation_with(
        db, alice, "ひらがなとカタカナで書いたメッセージです", "검색을 합니다. 한국어 검색도 됩니다"
    )

    assert ids(find(db, alice, "カタカナ")) == [japanese]
    assert ids(find(db, alice, "がな")) == [japanese]
    assert ids(find(db, alice, "メッセージ")) == [japanese]
    assert ids(find(db, alice, "검색")) == [korean]  # inside 검색을 (with its particle)
    assert marked(find(db, alice, "검색")[0]) == ["검색", "검색"]
    assert ids(find(db, alice, "한국어 합니")) == [korean]


def test_thai(db: Database, alice: User, method: str) -> None:
    _, (message,) = conversation_with(db, alice, "ระบบจับรางวัลของเรา")  # "our lottery system", unspaced
    assert ids(find(db, alice, "รางวัล")) == [message]


def test_mixed_queries_need_every_term(db: Database, alice: User, method: str) -> None:
    _, (mixed, chinese, english) = conversation_with(
        db, alice, "抽奖 system 的 design", "抽奖系统的设计", "a lottery system design"
    )

    assert ids(find(db, alice, "抽奖 system")) == [mixed]
    assert ids(find(db, alice, "system 抽奖")) == [mixed]
    assert ids(find(db, alice, "抽奖 sys")) == [mixed]  # the last word is a prefix, as in English queries
    assert ids(find(db, alice, "抽奖 SYSTE")) == [mixed]
    assert find(db, alice, "抽奖 sysx") == []
    assert set(ids(find(db, alice, "design"))) == {mixed, english}
    assert ids(find(db, alice, "设计 抽奖")) == [chinese]
    assert marked(find(db, alice, "抽奖 system")[0]) == ["抽奖", "system"]
    if method != "like":  # the word index: "sys" inside the query is a word, not a prefix
        assert find(db, alice, "sys 抽奖") == []


def test_mixed_queries_fold_accents_as_english_queries_do(db: Database, alice: User, method: str) -> None:
    _, (message,) = conversation_with(db, alice, "在 Café Lumière 抽奖")
    for query in ("抽奖 café", "抽奖 caf", "抽奖 lumière", "lumière 抽奖"):
        assert ids(find(db, alice, query)) == [message], query
    if method != "like" and db.is_sqlite:  # FTS5's word index ignores accents, for English queries too
        assert ids(find(db, alice, "抽奖 cafe")) == [message]
        assert ids(find(db, alice, "抽奖 lumi")) == [message]


def test_long_chinese_messages_are_cut_around_the_match(db: Database, alice: User, method: str) -> None:
    filler = "这是一段很长的填充文字" * 40
    conversation_with(db, alice, f"{filler}这里提到期望值{filler}")

    (hit,) = find(db, alice, "期望")

    assert marked(hit) == ["期望"]
    assert plain(hit).startswith("…") and plain(hit).endswith("…") and len(plain(hit)) < 250


def test_the_index_follows_streaming_edits_renames_and_deletes(db: Database, alice: User, method: str) -> None:
    conversation_id, (question, reply) = conversation_with(db, alice, "抽奖怎么做", "Let me")
    with db.write() as session:
        repository.save_message_progress(session, reply, content="Let me explain: 先设计奖池")
    assert ids(find(db, alice, "奖池")) == [reply]
    with db.write() as session:  # and the Chinese is gone again
        repository.save_message_progress(session, reply, content="Let me explain in English")
    assert find(db, alice, "奖池") == []
    with db.write() as session:
        repository.rename_conversation(session, alice, conversation_id, "期望值")
    assert ids(find(db, alice, "期望")) == [None]

    with db.write() as session:
        session.delete(session.get(Message, question))
    assert find(db, alice, "抽奖") == []
    with db.write() as session:
        repository.delete_conversation(session, alice, conversation_id)
    assert find(db, alice, "期望") == []


def test_other_users_and_deleted_conversations_are_never_found(
    db: Database, alice: User, bob: User, method: str
) -> None:
    conversation_with(db, bob, "鲍勃的抽奖", title="抽奖")
    deleted, _ = conversation_with(db, alice, "抽奖一", title="抽奖")
    kept, _ = conversation_with(db, alice, "抽奖二")
    with db.write() as session:
        repository.soft_delete_conversation(session, alice, deleted)

    assert {hit.conversation_id for hit in find(db, alice, "抽奖")} == {kept}
    assert {hit.conversation_id for hit in find(db, alice, "奖")} == {kept}


def test_older_matches_come_after_the_recent_ones(
    db: Database, alice: User, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads the newest RECENT_UNSPACED_MESSAGES, then asks its indexes for older matches: one for terms of three
    # characters or more, one for shorter terms.
    monkeypatch.setattr(search, "RECENT_UNSPACED_MESSAGES", 3)
    found = [conversation_with(db, alice, f"第{n}次做抽奖系统的猫" if n % 2 == 0 else f"第{n}次别的")[1][0]
             for n in range(8)]

    for query in ("抽奖", "抽奖系统", "猫", "做抽奖 系统"):
        assert ids(find(db, alice, query)) == [found[6], found[4], found[2], found[0]], query
    assert ids(find(db, alice, "次", limit=5)) == found[:2:-1]


def test_a_very_common_short_term_is_still_found_newest_first(
    db: Database, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past MAX_EXPANSION trigrams, a short term is looked for by reading the newest rows instead.
    monkeypatch.setattr(unspaced, "MAX_EXPANSION", 1)
    _, (first, second, _) = conversation_with(db, alice, "做抽奖系统", "新抽奖规则", "别的")

    assert ids(find(db, alice, "抽奖")) == [second, first]


@pytest.mark.parametrize("query", ['抽"', '"奖', "抽*", "（", '抽奖 "', "奖 OR 抽", "抽\U0010ffff", "抽%", "_奖", "抽'"])
def test_any_typed_chinese_query_is_safe(db: Database, alice: User, method: str, query: str) -> None:
    conversation_with(db, alice, LOTTERY)
    find(db, alice, query)  # never a syntax error from the search engine


def test_english_queries_do_not_become_substring_searches(db: Database, alice: User) -> None:
    _, (message,) = conversation_with(db, alice, "抽奖 tradition")
    assert find(db, alice, "adi") == []  # "adi" is not the start of a word here
    assert ids(find(db, alice, "tradi")) == [message]


# --- the two copies of the script ranges, and the migration -------------------------------------------------


def test_the_migration_indexes_the_characters_search_routes_to_it() -> None:
    spec = importlib.util.spec_from_file_location("migration_0006", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.RANGES == unspaced.RANGES and migration.PADDING == unspaced.PADDING
    assert migration.POSTGRESQL_REGEX == unspaced.POSTGRESQL_PATTERN


@pytest.mark.parametrize("character", ["抽", "ひ", "カ", "한", "ㄱ", "ก", "ສ", "。", "〇"])
def test_unspaced_scripts(character: str) -> None:
    assert unspaced.is_unspaced(f"x{character}")


@pytest.mark.parametrize("word", ["system", "café", "Привет", "مرحبا", "😀", "100%", "“quoted”…"])
def test_spaced_scripts(word: str) -> None:
    assert not unspaced.is_unspaced(word)


def test_sqlite_indexes_every_text_with_a_character_search_looks_for(db: Database, alice: User) -> None:
    """The triggers test UTF-8 lead bytes, search tests code points: every character of every range, at its
    edges and inside, must put its text in the trigram index; plain English must not."""
    if not db.is_sqlite:
        pytest.skip("SQLite's triggers")
    characters = sorted({chr(point) for low, high in unspaced.RANGES for point in (low, (low + high) // 2, high)})
    spaced = ["plain English", "café “quoted” — fine…", "emoji 😀❤️", "Привет мир"]
    _, message_ids = conversation_with(db, alice, *(f"ab{character}cd" for character in characters), *spaced)
    with db.engine.connect() as connection:  # every message ends in "cd", and the index sees the padding after it
        indexed = set(connection.execute(
            text("SELECT rowid FROM messages_cjk_fts WHERE messages_cjk_fts MATCH :last"),
            {"last": f'"cd{unspaced.PADDING[0]}"'},
        ).scalars())
    assert indexed == set(message_ids[: len(characters)])


def test_a_database_with_chinese_text_at_0005_finds_it_after_the_upgrade(database_url: str) -> None:
    database = Database(database_url)
    migrate(database, "0005")
    with database.write() as session:
        user = repository.ensure_user(session, "old")
    conversation_id, (message_id,) = conversation_with(database, user, LOTTERY, title="抽奖系统的设计")
    _, (english_id,) = conversation_with(database, user, "a lottery system")

    upgrade_to_head(database.engine)

    with database.read() as session:
        assert [(hit.conversation_id, hit.message_id) for hit in search.search_messages(session, user, "抽奖")] == [
            (conversation_id, None), (conversation_id, message_id)
        ]
        assert [hit.message_id for hit in search.search_messages(session, user, "期望")] == [message_id]
        assert [hit.message_id for hit in search.search_messages(session, user, "lottery")] == [english_id]
    if database.is_sqlite:
        with database.engine.connect() as connection:  # only the rows with such text are indexed twice
            assert connection.exec_driver_sql("SELECT count(*) FROM messages_cjk_fts_vocab").scalar() > 0
            rows = connection.execute(text("SELECT count(*) FROM messages_cjk_fts WHERE messages_cjk_fts MATCH 'lot'"))
            assert rows.scalar() == 0

    migrate(database, "0005", down=True)
    with database.engine.connect() as connection:
        tables = set(connection.dialect.get_table_names(connection))
        assert not {table for table in tables if "_cjk" in table}
        assert connection.exec_driver_sql("SELECT count(*) FROM messages").scalar() == 2
        if not database.is_sqlite:
            indexes = {index["name"] for index in connection.dialect.get_indexes(connection, "messages")}
            assert not {"ix_messages_content_cjk_search", "ix_messages_content_cjk_short_search"} & indexes
    database.dispose()


@pytest.mark.parametrize("value", ["", "猫", "抽奖AB", "世界世界", "ÉCOLE 学校", "期望值" * 300, "a\nb"])
def test_postgresql_short_substrings_are_every_one_and_two_character_substring(db: Database, value: str) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL function")
    with db.read() as session:
        grams = session.scalar(text("SELECT relaychat_short_substrings(:value)"), {"value": value})
    expected = {value[i : i + size].lower() for size in (1, 2) for i in range(len(value) - size + 1)}
    assert sorted(grams) == sorted(expected)
