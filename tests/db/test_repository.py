"""The query functions, on every configured backend: what a user sees after each change is read back fresh."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from db import repository
from db.engine import Database
from db.models import Conversation, Endpoint, Message, User, utcnow

LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


def add_endpoint(session: Any, user: User, name: str, **fields: Any) -> Endpoint:
    fields.setdefault("base_url", f"https://{name}.example/v1")
    return repository.save_endpoint(session, user, name=name, extra_headers={}, default_model=None, **fields)


def default_name(db: Database, user: User) -> str | None:
    """The name of the user's default endpoint, read in a new session; fails if there is more than one."""
    with db.read() as session:
        defaults = [e.name for e in repository.list_endpoints(session, user) if e.is_default]
    assert len(defaults) <= 1, defaults
    return defaults[0] if defaults else None


def get_message(db: Database, message_id: int) -> Message:
    with db.read() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


# --- users -------------------------------------------------------------------------------------------------


def test_ensure_user_creates_once(db: Database) -> None:
    with db.write() as session:
        first = repository.ensure_user(session)
    with db.write() as session:
        again = repository.ensure_user(session)
    with db.read() as session:
        assert again.id == first.id
        assert first.name == repository.LOCAL_USER_NAME and first.is_admin
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert repository.get_user(session).id == first.id  # type: ignore[union-attr]
        assert repository.get_user(session, "nobody") is None


# --- endpoints ---------------------------------------------------------------------------------------------


def test_first_endpoint_is_default_and_make_default_switches(db: Database, alice: User) -> None:
    with db.write() as session:
        add_endpoint(session, alice, "first")
        second = add_endpoint(session, alice, "second")
    assert default_name(db, alice) == "first"

    with db.write() as session:
        add_endpoint(session, alice, "second", endpoint_id=second.id, make_default=True)
    assert default_name(db, alice) == "second"

    with db.write() as session:
        third = add_endpoint(session, alice, "third")
        repository.set_default_endpoint(session, alice, third.id)
    assert default_name(db, alice) == "third"
    with db.read() as session:
        assert [e.name for e in repository.list_endpoints(session, alice)] == ["third", "first", "second"]
        assert repository.default_endpoint(session, alice).name == "third"  # type: ignore[union-attr]


def test_make_default_with_an_id_that_is_not_the_users_changes_nothing(db: Database, alice: User, bob: User) -> None:
    with db.write() as session:
        add_endpoint(session, alice, "alices")
        bobs = add_endpoint(session, bob, "bobs")
        repository.set_default_endpoint(session, alice, bobs.id)
        repository.set_default_endpoint(session, alice, 999_999)  # e.g. deleted in another tab
    assert default_name(db, alice) == "alices"
    assert default_name(db, bob) == "bobs"


def test_update_keeps_the_key_only_when_asked(db: Database, alice: User) -> None:
    with db.write() as session:
        endpoint = add_endpoint(session, alice, "relay", api_key_encrypted="token-1", api_key_mask="sk-…1111")

    with db.write() as session:
        add_endpoint(session, alice, "renamed", endpoint_id=endpoint.id, keep_key=True)
    with db.read() as session:
        stored = repository.get_endpoint(session, alice, endpoint.id)
        assert stored is not None
        assert (stored.name, stored.api_key_encrypted, stored.api_key_mask) == ("renamed", "token-1", "sk-…1111")

    with db.write() as session:
        add_endpoint(session, alice, "renamed", endpoint_id=endpoint.id, api_key_encrypted="token-2", api_key_mask="m2")
    with db.read() as session:
        assert repository.get_endpoint(session, alice, endpoint.id).api_key_encrypted == "token-2"  # type: ignore[union-attr]

    with db.write() as session:  # the user cleared the key
        add_endpoint(session, alice, "renamed", endpoint_id=endpoint.id)
    with db.read() as session:
        stored = repository.get_endpoint(session, alice, endpoint.id)
        assert stored is not None
        assert (stored.api_key_encrypted, stored.api_key_mask) == (None, None)


def test_deleting_the_default_promotes_another(db: Database, alice: User) -> None:
    with db.write() as session:
        ids = {name: add_endpoint(session, alice, name).id for name in ("a", "b", "c")}
        repository.set_default_endpoint(session, alice, ids["b"])

    with db.write() as session:
        repository.delete_endpoint(session, alice, ids["a"])  # not the default: nothing moves
    assert default_name(db, alice) == "b"

    with db.write() as session:
        repository.delete_endpoint(session, alice, ids["b"])
    assert default_name(db, alice) == "c"

    with db.write() as session:
        repository.delete_endpoint(session, alice, ids["c"])
    with db.read() as session:
        assert repository.list_endpoints(session, alice) == []
        assert repository.default_endpoint(session, alice) is None


def test_endpoints_are_scoped_by_user(db: Database, alice: User, bob: User) -> None:
    with db.write() as session:
        endpoint = add_endpoint(session, alice, "alices")
    with db.write() as session:
        assert repository.get_endpoint(session, bob, endpoint.id) is None
        repository.delete_endpoint(session, bob, endpoint.id)
    with db.read() as session:
        assert repository.list_endpoints(session, bob) == []
        assert [e.id for e in repository.list_endpoints(session, alice)] == [endpoint.id]


def test_config_endpoint_is_found_by_source(db: Database, alice: User, bob: User) -> None:
    with db.write() as session:
        add_endpoint(session, alice, "typed-in")
        configured = add_endpoint(session, alice, "from-env", source="config")
    with db.read() as session:
        assert repository.config_endpoint(session, alice).id == configured.id  # type: ignore[union-attr]
        assert repository.config_endpoint(session, bob) is None


def test_stream_usage_support_is_remembered_until_the_base_url_changes(db: Database, alice: User) -> None:
    with db.write() as session:
        endpoint = add_endpoint(session, alice, "relay")
    assert endpoint.supports_stream_usage is None

    with db.write() as session:
        repository.remember_stream_usage_unsupported(session, endpoint.id)
    with db.write() as session:  # same server, new name: still known not to support it
        add_endpoint(session, alice, "relay 2", endpoint_id=endpoint.id, base_url="https://relay.example/v1")
    with db.read() as session:
        assert repository.get_endpoint(session, alice, endpoint.id).supports_stream_usage is False  # type: ignore[union-attr]

    with db.write() as session:
        add_endpoint(session, alice, "relay 2", endpoint_id=endpoint.id, base_url="https://other.example/v1")
    with db.read() as session:
        assert repository.get_endpoint(session, alice, endpoint.id).supports_stream_usage is None  # type: ignore[union-attr]


# --- conversations -----------------------------------------------------------------------------------------


def new_conversation(session: Any, user: User, **fields: Any) -> Conversation:
    return repository.create_conversation(session, user, endpoint_id=None, model="gpt-test", **fields)


def test_conversations_are_scoped_by_user(db: Database, alice: User, bob: User) -> None:
    with db.write() as session:
        conversation = new_conversation(session, alice, system_prompt="Be brief.", params={"temperature": 0.5})
    with db.write() as session:
        assert repository.get_conversation(session, bob, conversation.id) is None
        assert repository.list_conversations(session, bob) == []
        repository.delete_conversation(session, bob, conversation.id)
    with db.read() as session:
        found = repository.get_conversation(session, alice, conversation.id)
        assert found is not None
        assert (found.title, found.model, found.system_prompt, found.params) == (
            "New chat", "gpt-test", "Be brief.", {"temperature": 0.5}
        )
        assert repository.get_conversation(session, alice, None) is None


def test_list_conversations_pages_through_every_conversation_once(db: Database, alice: User, bob: User) -> None:
    # Ties on updated_at (several saved in the same instant) must neither repeat nor vanish at a page boundary.
    times = [LONG_AGO + timedelta(minutes=m) for m in (0, 1, 1, 1, 2, 3, 3, 3, 3, 4)]
    with db.write() as session:
        for when in times:
            new_conversation(session, alice).updated_at = when
            new_conversation(session, bob).updated_at = when
    with db.read() as session:
        everything = session.scalars(select(Conversation).where(Conversation.user_id == alice.id)).all()
        expected = [c.id for c in sorted(everything, key=lambda c: (c.updated_at, c.id), reverse=True)]

        seen: list[int] = []
        before = None
        while page := repository.list_conversations(session, alice, limit=3, before=before):
            assert len(page) <= 3
            seen += [c.id for c in page]
            before = (page[-1].updated_at, page[-1].id)

    assert seen == expected
    assert len(seen) == len(times)


# --- messages ----------------------------------------------------------------------------------------------


def test_add_message_moves_the_leaf_and_titles_the_chat(db: Database, alice: User) -> None:
    with db.write() as session:
        conversation = new_conversation(session, alice)
        conversation.updated_at = LONG_AGO
        question = repository.add_message(session, conversation, role="user", content="  What is\nWAL mode?", parent_id=None)
        answer = repository.add_message(session, conversation, role="assistant", content="A journal.", parent_id=question.id)
        repository.add_message(session, conversation, role="user", content="And more?", parent_id=answer.id)
        last = repository.add_message(session, conversation, role="assistant", content="Later.", parent_id=answer.id)
    with db.read() as session:
        stored = repository.get_conversation(session, alice, conversation.id)
        assert stored is not None
        assert stored.title == "What is WAL mode?"  # from the first user message only
        assert stored.current_leaf_id == last.id
        assert stored.updated_at > LONG_AGO


def test_title_from_text() -> None:
    assert repository.title_from_text("  Hello\n\n  world ") == "Hello world"
    assert repository.title_from_text(" \n ") == "New chat"
    exactly = "x" * repository.TITLE_LENGTH
    assert repository.title_from_text(exactly) == exactly

    words = "Explain how the borrow checker in Rust decides when a reference may outlive its owner"
    title = repository.title_from_text(words)
    assert title.endswith("…") and len(title) <= repository.TITLE_LENGTH + 1
    kept = title.removesuffix("…")
    assert words.startswith(kept + " ")  # cut between words, never inside one

    # A word ending exactly at the limit is whole: keep it.
    fits = "word " * 11 + "abcde"  # 60 characters, then more
    assert repository.title_from_text(fits + " tail") == fits + "…"

    one_long_word = "a" * 100
    assert repository.title_from_text(one_long_word) == "a" * repository.TITLE_LENGTH + "…"


def test_message_path_follows_the_visible_branch(db: Database, alice: User) -> None:
    #   hi ─ hello ─┬─ tell a joke ─── joke
    #               └─ tell a poem ─── poem
    with db.write() as session:
        conversation = new_conversation(session, alice)
        assert repository.message_path(session, conversation) == []

        def add(role: str, content: str, parent: Message | None) -> Message:
            return repository.add_message(
                session, conversation, role=role, content=content, parent_id=parent.id if parent else None
            )

        hello = add("assistant", "hello", add("user", "hi", None))
        joke = add("assistant", "joke", add("user", "tell a joke", hello))
        add("assistant", "poem", add("user", "tell a poem", hello))
        joke_id = joke.id

    def visible_path(switch_to: int | None = None) -> list[str]:
        with db.write() as session:
            stored = repository.get_conversation(session, alice, conversation.id)
            assert stored is not None
            if switch_to is not None:  # the user picks another branch
                stored.current_leaf_id = switch_to
            return [m.content for m in repository.message_path(session, stored)]

    assert visible_path() == ["hi", "hello", "tell a poem", "poem"]  # the newest reply is shown
    assert visible_path(switch_to=joke_id) == ["hi", "hello", "tell a joke", "joke"]
    assert visible_path() == ["hi", "hello", "tell a joke", "joke"]
    assert visible_path(switch_to=hello.id) == ["hi", "hello"]


def test_deleting_a_conversation_deletes_its_messages(db: Database, alice: User) -> None:
    with db.write() as session:
        doomed, kept = new_conversation(session, alice), new_conversation(session, alice)
        for conversation in (doomed, kept):
            first = repository.add_message(session, conversation, role="user", content="q", parent_id=None)
            repository.add_message(session, conversation, role="assistant", content="a", parent_id=first.id)
    with db.write() as session:
        repository.delete_conversation(session, alice, doomed.id)
    with db.read() as session:
        assert repository.get_conversation(session, alice, doomed.id) is None
        remaining = session.scalars(select(Message.conversation_id)).all()
        assert remaining == [kept.id, kept.id]


# --- streaming bookkeeping ---------------------------------------------------------------------------------


def streaming_replies(db: Database, user: User, count: int, **fields: Any) -> list[int]:
    """`count` assistant replies, last saved long ago (defaults: status streaming)."""
    fields = {"status": "streaming", "updated_at": LONG_AGO, **fields}
    with db.write() as session:
        conversation = new_conversation(session, user)
        question = repository.add_message(session, conversation, role="user", content="q", parent_id=None)
        return [
            repository.add_message(
                session, conversation, role="assistant", content="", parent_id=question.id, **fields
            ).id
            for _ in range(count)
        ]


def test_save_message_progress_writes_fields_and_touches_updated_at(db: Database, alice: User) -> None:
    [reply] = streaming_replies(db, alice, 1)
    with db.write() as session:
        repository.save_message_progress(session, reply, content="Partial ans", completion_tokens=3)
    saved = get_message(db, reply)
    assert (saved.content, saved.completion_tokens, saved.status) == ("Partial ans", 3, "streaming")
    assert saved.updated_at > LONG_AGO


def test_touch_streaming_touches_only_the_given_streaming_rows(db: Database, alice: User) -> None:
    live, other = streaming_replies(db, alice, 2)
    [finished] = streaming_replies(db, alice, 1, status="complete")
    with db.write() as session:
        repository.touch_streaming(session, frozenset({live, finished}))
    assert get_message(db, live).updated_at > LONG_AGO
    assert get_message(db, other).updated_at == LONG_AGO
    assert get_message(db, finished).updated_at == LONG_AGO


def test_interrupt_stale_streams_marks_only_dead_writers(db: Database, alice: User) -> None:
    dead, running_here = streaming_replies(db, alice, 2)
    [fresh] = streaming_replies(db, alice, 1, updated_at=utcnow())
    [finished] = streaming_replies(db, alice, 1, status="complete")

    with db.write() as session:
        count = repository.interrupt_stale_streams(
            session, older_than=LONG_AGO + timedelta(days=1), keep=frozenset({running_here})
        )

    assert count == 1
    interrupted = get_message(db, dead)
    assert interrupted.status == "interrupted"
    assert "stopped while this reply was streaming" in (interrupted.error or "")
    for untouched, status in ((running_here, "streaming"), (fresh, "streaming"), (finished, "complete")):
        message = get_message(db, untouched)
        assert (message.status, message.error) == (status, None)
    with db.write() as session:  # already interrupted: nothing to do the second time
        again = repository.interrupt_stale_streams(
            session, older_than=LONG_AGO + timedelta(days=1), keep=frozenset({running_here})
        )
    assert again == 0


# --- concurrent writers (SQLite) ---------------------------------------------------------------------------


def test_concurrent_read_then_write_transactions_all_succeed_on_sqlite(sqlite_db: Database) -> None:
    threads, writes = 8, 50
    with sqlite_db.write() as session:
        user = repository.ensure_user(session)
        conversation = new_conversation(session, user)
        message = repository.add_message(session, conversation, role="assistant", content="", parent_id=None)
        message.completion_tokens = 0

    def writer(thread: int) -> None:
        for number in range(writes):
            # Read, then write from what was read: a lost update or "database is locked" fails the test.
            with sqlite_db.write() as session:
                row = session.get(Message, message.id)
                assert row is not None
                row.content += f"[{thread}:{number}]"
                row.completion_tokens = (row.completion_tokens or 0) + 1

    with ThreadPoolExecutor(threads) as pool:
        for result in [pool.submit(writer, thread) for thread in range(threads)]:
            result.result()  # re-raises any OperationalError from a worker

    final = get_message(sqlite_db, message.id)
    assert final.completion_tokens == threads * writes
    for thread in range(threads):
        for number in range(writes):
            assert final.content.count(f"[{thread}:{number}]") == 1
