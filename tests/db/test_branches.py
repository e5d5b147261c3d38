"""The message tree on every configured backend: siblings, switching branches, editing, forking, deleting."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from db import branches, repository, search
from db.engine import Database
from db.models import Conversation, Message, User


class Tree:
    """A conversation built message by message, with the ids by name:

        hi ─ hello ─┬─ joke? ─┬─ joke1
                    │         └─ joke2
                    └─ poem? ─── poem ─── more? ─── more
    """

    def __init__(self, db: Database, user: User) -> None:
        self.ids: dict[str, int] = {}
        with db.write() as session:
            conversation = repository.create_conversation(
                session, user, endpoint_id=None, model="gpt-test", system_prompt="Be brief.",
                params={"temperature": 0.3},
            )
            conversation.title = "Jokes and poems"
            self.conversation_id = conversation.id
            for name, role, parent in [
                ("hi", "user", None), ("hello", "assistant", "hi"),
                ("joke?", "user", "hello"), ("joke1", "assistant", "joke?"), ("joke2", "assistant", "joke?"),
                ("poem?", "user", "hello"), ("poem", "assistant", "poem?"),
                ("more?", "user", "poem"), ("more", "assistant", "more?"),
            ]:
                message = repository.add_message(
                    session, conversation, role=role, content=name, parent_id=self.ids.get(parent or ""),
                    model="gpt-test" if role == "assistant" else None, prompt_tokens=3, completion_tokens=5,
                )
                self.ids[name] = message.id

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def visible(db: Database, user: User, conversation_id: int) -> list[str]:
    with db.read() as session:
        conversation = repository.get_conversation(session, user, conversation_id)
        assert conversation is not None
        return [m.content for m in repository.message_path(session, conversation)]


def contents(messages: list[Message]) -> list[str]:
    return [m.content for m in messages]


def test_siblings_share_a_parent_and_come_in_order(db: Database, alice: User, bob: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        assert contents(branches.siblings(session, alice, tree["joke2"])) == ["joke1", "joke2"]
        assert contents(branches.siblings(session, alice, tree["poem?"])) == ["joke?", "poem?"]
        assert contents(branches.siblings(session, alice, tree["more"])) == ["more"]
        assert contents(branches.siblings(session, alice, tree["hi"])) == ["hi"]
        second_root = repository.add_message(
            session, session.get(Conversation, tree.conversation_id), role="user", content="hi again", parent_id=None
        )
        assert contents(branches.siblings(session, alice, second_root.id)) == ["hi", "hi again"]  # roots too
        assert branches.siblings(session, bob, tree["joke1"]) == []
        assert branches.siblings(session, alice, 10**9) == []


def test_sibling_groups_for_the_whole_conversation(db: Database, alice: User, bob: User) -> None:
    tree = Tree(db, alice)
    with db.read() as session:
        groups = branches.sibling_groups(session, alice, tree.conversation_id)
        assert groups[tree["joke2"]] == (tree["joke1"], tree["joke2"])
        assert groups[tree["poem?"]] == (tree["joke?"], tree["poem?"])
        assert groups[tree["hi"]] == (tree["hi"],)
        assert len(groups) == len(tree.ids)
        assert branches.sibling_groups(session, bob, tree.conversation_id) == {}


def test_switch_branch_shows_the_newest_path_below_the_message(db: Database, alice: User, bob: User) -> None:
    tree = Tree(db, alice)
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "poem?", "poem", "more?", "more"]

    with db.write() as session:
        leaf = branches.switch_branch(session, alice, tree["joke?"])
    assert leaf.id == tree["joke2"]  # the newest child at each step
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "joke?", "joke2"]

    with db.write() as session:
        branches.switch_branch(session, alice, tree["joke1"])
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "joke?", "joke1"]

    with db.write() as session:
        branches.switch_branch(session, alice, tree["hi"])
    assert visible(db, alice, tree.conversation_id)[-1] == "more"

    with pytest.raises(branches.MessageNotFound):
        with db.write() as session:
            branches.switch_branch(session, bob, tree["joke1"])


def test_editing_a_question_adds_a_sibling_branch(db: Database, alice: User, bob: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        edited = branches.edit_user_message(session, alice, tree["poem?"], "a limerick?")
    assert edited.parent_id == tree["hello"] and edited.role == "user"
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "a limerick?"]
    with db.read() as session:
        assert contents(branches.siblings(session, alice, edited.id)) == ["joke?", "poem?", "a limerick?"]
        conversation = repository.get_conversation(session, alice, tree.conversation_id)
        assert conversation is not None and conversation.title == "Jokes and poems"

    with db.write() as session:
        first = branches.edit_user_message(session, alice, tree["hi"], "hey")
    assert first.parent_id is None
    assert visible(db, alice, tree.conversation_id) == ["hey"]

    with pytest.raises(branches.BranchError, match="Only your own messages"):
        with db.write() as session:
            branches.edit_user_message(session, alice, tree["poem"], "rewritten answer")
    with pytest.raises(branches.BranchError, match="empty"):
        with db.write() as session:
            branches.edit_user_message(session, alice, tree["poem?"], "  \n")
    with pytest.raises(branches.MessageNotFound):
        with db.write() as session:
            branches.edit_user_message(session, bob, tree["poem?"], "mine now")


def test_fork_copies_the_path_and_the_settings(db: Database, alice: User, bob: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        fork = branches.fork_conversation(session, alice, tree["joke1"])
    assert fork.id != tree.conversation_id
    assert visible(db, alice, fork.id) == ["hi", "hello", "joke?", "joke1"]
    with db.read() as session:
        copy = repository.get_conversation(session, alice, fork.id)
        assert copy is not None
        assert (copy.title, copy.model, copy.system_prompt, copy.params) == (
            "Jokes and poems (fork)", "gpt-test", "Be brief.", {"temperature": 0.3}
        )
        copied = repository.message_path(session, copy)
        assert [(m.role, m.model, m.prompt_tokens, m.completion_tokens) for m in copied][1] == (
            "assistant", "gpt-test", 3, 5
        )
        assert session.scalar(select(func.count()).where(Message.conversation_id == fork.id)) == 4
    # The original is untouched.
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "poem?", "poem", "more?", "more"]

    with pytest.raises(branches.MessageNotFound):
        with db.write() as session:
            branches.fork_conversation(session, bob, tree["joke1"])


def test_fork_of_a_streaming_reply_is_not_left_streaming(db: Database, alice: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        repository.save_message_progress(session, tree["more"], status="streaming", content="half a rep")
    with db.write() as session:
        fork = branches.fork_conversation(session, alice, tree["more"])
    with db.read() as session:
        last = repository.message_path(session, session.get(Conversation, fork.id))[-1]
        assert (last.content, last.status) == ("half a rep", "interrupted")


def remaining(db: Database, conversation_id: int) -> set[str]:
    with db.read() as session:
        return set(session.scalars(select(Message.content).where(Message.conversation_id == conversation_id)))


def test_delete_takes_the_descendants_and_shows_a_sibling_branch(db: Database, alice: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        branches.delete_message(session, alice, tree["poem?"])  # on the visible branch

    assert remaining(db, tree.conversation_id) == {"hi", "hello", "joke?", "joke1", "joke2"}
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "joke?", "joke2"]  # the sibling before it


def test_delete_moves_to_the_next_sibling_or_the_parent(db: Database, alice: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        branches.switch_branch(session, alice, tree["joke1"])
        branches.delete_message(session, alice, tree["joke1"])
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "joke?", "joke2"]  # none before: the next

    with db.write() as session:
        branches.delete_message(session, alice, tree["joke2"])
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "joke?"]  # no sibling left: the parent

    with db.write() as session:
        branches.delete_message(session, alice, tree["hi"])
    assert remaining(db, tree.conversation_id) == set()
    assert visible(db, alice, tree.conversation_id) == []


def test_delete_elsewhere_keeps_the_visible_branch(db: Database, alice: User, bob: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        branches.delete_message(session, alice, tree["joke?"])
    assert visible(db, alice, tree.conversation_id) == ["hi", "hello", "poem?", "poem", "more?", "more"]
    assert "joke1" not in remaining(db, tree.conversation_id)

    with pytest.raises(branches.MessageNotFound):
        with db.write() as session:
            branches.delete_message(session, bob, tree["poem"])
    assert "poem" in remaining(db, tree.conversation_id)


def test_deleted_messages_leave_the_search_index(db: Database, alice: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        branches.delete_message(session, alice, tree["poem?"])
    with db.read() as session:
        assert [hit.message_id for hit in search.search_messages(session, alice, "poem")] == [None]  # the title
        assert [hit.message_id for hit in search.search_messages(session, alice, "joke1")] == [tree["joke1"]]


def chain(db: Database, user: User, length: int) -> tuple[int, list[int]]:
    """A conversation of `length` messages, each the reply to the one before."""
    with db.write() as session:
        conversation = repository.create_conversation(session, user, endpoint_id=None, model="m")
        ids: list[int] = []
        for number in range(length):
            fields: dict[str, Any] = {"role": "user" if number % 2 == 0 else "assistant", "content": f"turn {number}"}
            ids.append(repository.add_message(session, conversation, parent_id=ids[-1] if ids else None, **fields).id)
        return conversation.id, ids


def test_deleting_deep_in_a_long_conversation(db: Database, alice: User) -> None:
    # SQLite runs each level of an ON DELETE CASCADE as a nested trigger and refuses past 1,000 levels.
    conversation_id, ids = chain(db, alice, 1_200)
    with db.write() as session:
        branches.delete_message(session, alice, ids[1])
    assert remaining(db, conversation_id) == {"turn 0"}
    assert visible(db, alice, conversation_id) == ["turn 0"]


def test_operations_on_a_deleted_conversation_find_nothing(db: Database, alice: User) -> None:
    tree = Tree(db, alice)
    with db.write() as session:
        repository.soft_delete_conversation(session, alice, tree.conversation_id)
    with db.write() as session:
        assert branches.siblings(session, alice, tree["joke1"]) == []
        with pytest.raises(branches.MessageNotFound):
            branches.switch_branch(session, alice, tree["joke1"])
