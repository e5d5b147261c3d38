"""Export and import on every configured backend: Markdown, RelayChat JSON round trips (one conversation and a
backup), ChatGPT's conversations.json and OpenAI messages arrays, and bad files that import nothing."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db import branches, repository, search
from db.engine import Database
from db.models import Conversation, Message, User
from services import history
from services.history import ImportFormatError

FIXTURES = Path(__file__).parent.parent / "fixtures"


def add_endpoint(db: Database, user: User, name: str, base_url: str) -> int:
    with db.write() as session:
        return repository.save_endpoint(
            session, user, name=name, base_url=base_url, extra_headers={}, default_model=None
        ).id


def branched_conversation(db: Database, user: User, endpoint_id: int | None) -> int:
    """  question ─┬─ first answer (stopped)
                   └─ second answer (a tool call) ─── tool result ─── follow-up ─┬─ failed reply (error)
                                                                                  └─ edited follow-up  ← visible
    """
    with db.write() as session:
        conversation = repository.create_conversation(
            session, user, endpoint_id=endpoint_id, model="gpt-test", system_prompt="Be brief.",
            params={"temperature": 0.5, "max_tokens": 300},
        )
        question = repository.add_message(
            session, conversation, role="user", content="What is WAL?", parent_id=None,
            attachments=[{"name": "notes.txt", "kind": "text", "size": 5, "text": "notes"}],
        )
        repository.add_message(
            session, conversation, role="assistant", content="A jour", parent_id=question.id, model="gpt-test",
            status="stopped", request={"model": "gpt-test", "stream": True},
        )
        answer = repository.add_message(
            session, conversation, role="assistant", content="A **write-ahead log**.", parent_id=question.id,
            model="gpt-test", reasoning="Think of SQLite.", finish_reason="stop", prompt_tokens=12,
            completion_tokens=7, total_tokens=19, time_to_first_token_ms=150, duration_ms=800,
            request={"model": "gpt-test", "stream": True, "temperature": 0.5},
            response_meta={"id": "chatcmpl-1"},
            tool_calls=[{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            choices=[{"index": 0, "content": "A **write-ahead log**."}, {"index": 1, "content": "A log."}],
            chosen_index=0,
        )
        result = repository.add_message(
            session, conversation, role="tool", content="42", parent_id=answer.id, tool_call_id="call_1"
        )
        follow_up = repository.add_message(session, conversation, role="user", content="Why?", parent_id=result.id)
        repository.add_message(
            session, conversation, role="assistant", content="", parent_id=follow_up.id, model="gpt-test",
            status="error", error="HTTP 500: boom",
        )
        conversation_id = conversation.id
        follow_up_id = follow_up.id
    with db.write() as session:
        branches.edit_user_message(session, user, follow_up_id, "Why is it fast?")
        repository.set_pinned(session, user, conversation_id, True)
    return conversation_id


def snapshot(db: Database, user: User, conversation_id: int) -> dict[str, Any]:
    """Everything that makes two conversations equal, with messages as positions in the tree (not ids)."""
    with db.read() as session:
        conversation = repository.get_conversation(session, user, conversation_id)
        assert conversation is not None
        messages = list(
            session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
        )
    position = {m.id: n for n, m in enumerate(messages)}
    placement = ("id", "conversation_id", "parent_id", "updated_at")
    columns = [c.key for c in Message.__table__.columns if c.key not in placement]
    return {
        "title": conversation.title,
        "pinned": conversation.pinned,
        "settings": (conversation.endpoint_id, conversation.model, conversation.system_prompt, conversation.params),
        "times": (conversation.created_at, conversation.updated_at),
        "leaf": position.get(conversation.current_leaf_id or 0),
        "messages": [
            (position.get(m.parent_id or 0), *(getattr(m, column) for column in columns)) for m in messages
        ],
    }


def import_bytes(db: Database, user: User, raw: bytes, filename: str = "upload.json") -> history.ImportResult:
    return history.import_file(db, user, raw, filename)


def conversation_count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Conversation)) or 0


def visible(db: Database, user: User, conversation_id: int) -> list[tuple[str, str]]:
    with db.read() as session:
        conversation = repository.get_conversation(session, user, conversation_id)
        assert conversation is not None
        return [(m.role, m.content) for m in repository.message_path(session, conversation)]


# --- Markdown ----------------------------------------------------------------------------------------------


def test_markdown_has_the_title_and_the_visible_branch(db: Database, alice: User, bob: User) -> None:
    conversation_id = branched_conversation(db, alice, None)
    with db.write() as session:
        failed = session.scalar(select(Message.id).where(Message.status == "error"))
        assert failed is not None
        branches.switch_branch(session, alice, failed)
        markdown = history.export_markdown(session, alice, conversation_id)
        assert history.export_markdown(session, bob, conversation_id) is None
        assert history.export_markdown(session, alice, 10**9) is None
    assert markdown is not None
    assert markdown.startswith("# What is WAL?\n")
    assert "## System prompt\n\nBe brief." in markdown
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "## System prompt", "## User", "## Assistant (gpt-test)", "## Tool", "## User", "## Assistant (gpt-test)"
    ]
    assert "_Attached: notes.txt_" in markdown
    assert "A **write-ahead log**." in markdown and "A jour" not in markdown  # the other branch is not shown
    assert "<details><summary>Reasoning</summary>\n\nThink of SQLite.\n\n</details>" in markdown
    assert "_(error: HTTP 500: boom)_" in markdown


def test_export_filename() -> None:
    assert history.export_filename("What is WAL? / notes", "md") == "what-is-wal-notes.md"
    assert history.export_filename("???", ".json") == "conversation.json"


# --- RelayChat JSON round trips ----------------------------------------------------------------------------


def test_json_round_trip_gives_an_equal_conversation(db: Database, alice: User) -> None:
    endpoint_id = add_endpoint(db, alice, "Local", "http://127.0.0.1:9/v1")
    original = branched_conversation(db, alice, endpoint_id)
    with db.read() as session:
        exported = history.export_json(session, alice, original)
    assert exported is not None
    document = json.loads(exported)
    assert (document["format"], document["version"]) == ("relaychat.conversation", 1)
    assert len(document["conversation"]["messages"]) == 7  # the whole tree, not only the visible branch

    result = import_bytes(db, alice, exported.encode(), "export.json")

    assert (result.source, result.message_count) == ("relaychat", 7)
    (copy,) = result.conversation_ids
    assert copy != original
    assert snapshot(db, alice, copy) == snapshot(db, alice, original)
    assert visible(db, alice, copy)[-1] == ("user", "Why is it fast?")


def test_the_relaychat_fixture_imports_and_exports_unchanged(db: Database, alice: User) -> None:
    add_endpoint(db, alice, "Someone else", "http://127.0.0.1:8000/v1/")
    endpoint_id = add_endpoint(db, alice, "Local relay", "http://127.0.0.1:8000/v1")
    raw = (FIXTURES / "relaychat_conversation.json").read_bytes()

    (conversation_id,) = import_bytes(db, alice, raw).conversation_ids

    with db.read() as session:
        conversation = repository.get_conversation(session, alice, conversation_id)
        assert conversation is not None
        assert conversation.endpoint_id == endpoint_id  # matched by name and URL
        assert conversation.updated_at == datetime(2026, 11, 19, 8, 5, tzinfo=timezone.utc)
        exported = history.export_json(session, alice, conversation_id)
    assert visible(db, alice, conversation_id) == [
        ("user", "A regex that matches 2026-11-19?"),
        ("assistant", "```regex\n^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$\n```"),
    ]
    assert exported is not None
    assert json.loads(exported)["conversation"] == json.loads(raw)["conversation"]


def test_backup_round_trip_into_another_account(db: Database, alice: User, bob: User) -> None:
    first = branched_conversation(db, alice, None)
    with db.write() as session:
        second = repository.create_conversation(session, alice, endpoint_id=None, model=None)
        repository.add_message(session, second, role="user", content="empty reply next", parent_id=None)
        deleted = repository.create_conversation(session, alice, endpoint_id=None, model=None)
        repository.add_message(session, deleted, role="user", content="deleted", parent_id=None)
    with db.write() as session:
        repository.soft_delete_conversation(session, alice, deleted.id)
        backup = history.export_backup(session, alice)
        assert json.loads(history.export_backup(session, bob)) | {"exported_at": None} == {
            "format": "relaychat.backup", "version": 1, "exported_at": None, "conversations": []
        }

    result = import_bytes(db, bob, backup.encode(), "relaychat-backup.json")

    assert len(result.conversation_ids) == 2  # the deleted one is not in the backup
    for original, copy in zip((first, second.id), result.conversation_ids, strict=True):
        assert snapshot(db, bob, copy) == snapshot(db, alice, original)
    with db.read() as session:
        assert [c.id for c in repository.list_conversations(session, bob)][0] == result.conversation_ids[0]  # pinned


def test_imported_messages_are_searchable(db: Database, alice: User) -> None:
    import_bytes(db, alice, (FIXTURES / "relaychat_conversation.json").read_bytes())
    with db.read() as session:
        hits = search.search_messages(session, alice, "optional time")
    assert [(hit.role, "".join(s.text for s in hit.snippet)) for hit in hits] == [
        ("user", "And with an optional time?")
    ]


# --- ChatGPT's conversations.json --------------------------------------------------------------------------


def check_chatgpt_import(db: Database, user: User, result: history.ImportResult) -> None:
    assert (result.source, result.message_count, result.skipped_conversations) == ("chatgpt", 9, 1)
    sourdough, haiku = result.conversation_ids
    assert visible(db, user, sourdough) == [
        ("user", "How often should I feed my sourdough starter?"),
        ("assistant", "Once a day at room temperature; once a week if it lives in the fridge."),
        ("user", "What flour works best for a rye starter?"),  # current_node's branch: the edited question
        ("assistant", "Dark rye flour. Let me work out the hydration for you."),
        ("assistant", "Use 80 g of water per 100 g of rye flour (80% hydration)."),  # tool call and output skipped
    ]
    with db.read() as session:
        conversation = repository.get_conversation(session, user, sourdough)
        assert conversation is not None
        assert (conversation.title, conversation.model) == ("Sourdough starter help", "gpt-4o")
        assert conversation.created_at == datetime.fromtimestamp(1700000000, tz=timezone.utc)
        path = repository.message_path(session, conversation)
        assert [m.model for m in path] == [None, "gpt-4o", None, "gpt-4o", "gpt-4o"]
        assert path[0].created_at == datetime.fromtimestamp(1700000010.25, tz=timezone.utc)
        edited = branches.siblings(session, user, path[2].id)
        assert [m.content for m in edited] == ["What flour should I use?", "What flour works best for a rye starter?"]
        assert session.scalar(select(func.count()).where(Message.conversation_id == sourdough)) == 7
    with db.write() as session:
        branches.switch_branch(session, user, edited[0].id)
    assert visible(db, user, sourdough)[-1] == ("assistant", "Whole wheat or rye: the bran feeds the yeast.")
    assert visible(db, user, haiku) == [
        ("user", "Write a haiku about this autumn photo."),
        ("assistant", "Maple leaves drifting\nacross a quiet stone path\nthe year exhales slow"),
    ]


def test_chatgpt_export_becomes_branches(db: Database, alice: User) -> None:
    raw = (FIXTURES / "chatgpt_conversations.json").read_bytes()
    check_chatgpt_import(db, alice, import_bytes(db, alice, raw, "conversations.json"))


def test_chatgpt_zip_archive(db: Database, alice: User) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("chat.html", "<html></html>")
        zipped.writestr("conversations.json", (FIXTURES / "chatgpt_conversations.json").read_bytes())
        zipped.writestr("user.json", "{}")
    check_chatgpt_import(db, alice, import_bytes(db, alice, archive.getvalue(), "chatgpt-export.zip"))


# --- OpenAI messages ---------------------------------------------------------------------------------------


CALL = {"id": "call_9", "type": "function", "function": {"name": "next_prime", "arguments": '{"after": 7}'}}


def test_openai_messages_array(db: Database, alice: User) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name a prime."},
        {"role": "assistant", "content": "7"},
        {"role": "user", "content": [
            {"type": "text", "text": "Another,"}, {"type": "image_url", "image_url": {"url": "x"}},
            {"type": "text", "text": "please."},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_9", "content": "11"},
    ]
    result = import_bytes(db, alice, json.dumps(messages).encode(), "messages.json")

    assert (result.source, result.message_count) == ("openai", 5)
    (conversation_id,) = result.conversation_ids
    assert visible(db, alice, conversation_id) == [
        ("user", "Name a prime."), ("assistant", "7"), ("user", "Another,\n\nplease."), ("assistant", ""),
        ("tool", "11"),
    ]
    with db.read() as session:
        conversation = repository.get_conversation(session, alice, conversation_id)
        assert conversation is not None
        assert (conversation.title, conversation.system_prompt) == ("Name a prime.", "You are terse.")
        call, result_message = repository.message_path(session, conversation)[-2:]
        assert (call.tool_calls, result_message.tool_call_id) == ([CALL], "call_9")


def test_openai_request_body_keeps_model_and_parameters(db: Database, alice: User) -> None:
    body = {
        "model": "gpt-4o-mini", "temperature": 1, "response_format": {"type": "json_object"}, "stream": False,
        "messages": [{"role": "developer", "content": "Reply in JSON."}, {"role": "user", "content": "List 3 colours"}],
    }
    (conversation_id,) = import_bytes(db, alice, json.dumps(body).encode(), "request.json").conversation_ids
    with db.read() as session:
        conversation = repository.get_conversation(session, alice, conversation_id)
        assert conversation is not None
        assert (conversation.model, conversation.system_prompt, conversation.params) == (
            "gpt-4o-mini", "Reply in JSON.", {"temperature": 1.0, "response_format": "json_object"}
        )


# --- bad files ---------------------------------------------------------------------------------------------


def relaychat(**conversation: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "T", "settings": {"model": "m", "system_prompt": "", "params": {}}, "current_leaf": 1,
        "messages": [FIRST_MESSAGE],
    }
    return {"format": "relaychat.conversation", "version": 1, "conversation": base | conversation}


FIRST_MESSAGE = {"id": 1, "parent": None, "role": "user", "content": "hi"}


def message(**fields: Any) -> dict[str, Any]:
    return {"id": 2, "parent": 1, "role": "assistant", "content": "hello"} | fields


def chatgpt_node(parent: str | None, role: str = "user", text: str = "hi") -> dict[str, Any]:
    return {
        "parent": parent, "children": [],
        "message": {"author": {"role": role}, "content": {"content_type": "text", "parts": [text]}},
    }


BAD_FILES: list[tuple[str, Any, str]] = [
    ("not utf-8", b"\xff\xfe\x00", "upload.json is not UTF-8 text"),
    ("not json", b'{"format": ', "upload.json is not valid JSON: Expecting value at line 1, column 12."),
    ("a number", 42, "not a file RelayChat can import"),
    ("empty list", [], "holds an empty list"),
    ("unknown format", {"format": "other.app", "version": 1}, "\"format\" is 'other.app'"),
    ("newer version", relaychat() | {"version": 2}, "\"version\" 2 was written by a newer RelayChat"),
    ("conversation not an object", {"format": "relaychat.conversation", "version": 1, "conversation": []},
     "the conversation: must be a JSON object, not a list."),
    ("bad role", relaychat(messages=[{"id": 1, "role": "robot", "content": "x"}]),
     "the conversation (“T”), message 1: \"role\" must be one of system, user, assistant, tool, not 'robot'."),
    ("missing content", relaychat(messages=[{"id": 1, "role": "user"}]),
     "the conversation (“T”), message 1: \"content\" is missing."),
    ("unknown parent", relaychat(messages=[FIRST_MESSAGE, message(parent=9)]),
     "message 2: \"parent\" 9 is not the id of an earlier message."),
    ("duplicate id", relaychat(messages=[FIRST_MESSAGE, message(id=1)]),
     "message 2: \"id\" 1 is used by an earlier message too."),
    ("unknown leaf", relaychat(current_leaf=99), "\"current_leaf\" 99 is not the id of one of its messages."),
    ("bad usage", relaychat(messages=[FIRST_MESSAGE, message(usage={"prompt_tokens": "3"})]),
     "message 2, usage: \"prompt_tokens\" must be a whole number, not text."),
    ("bad date", relaychat(messages=[FIRST_MESSAGE, message(created_at="yesterday")]),
     "message 2: \"created_at\" 'yesterday' is not an ISO 8601 date and time."),
    ("bad status", relaychat(messages=[FIRST_MESSAGE, message(status="done")]),
     "message 2: \"status\" must be one of streaming, complete, stopped, interrupted, error, not 'done'."),
    ("bad attachment", relaychat(messages=[FIRST_MESSAGE | {"attachments": [{"name": "a.png", "kind": "video"}]}]),
     "message 1, attachments 1: \"kind\" must be one of image, text, not 'video'."),
    ("bad choices", relaychat(messages=[FIRST_MESSAGE, message(choices=[{"content": "x"}])]),
     "message 2, choices 1: \"index\" is missing."),
    ("bad params", relaychat(settings={"params": {"temperature": 7}}),
     "the conversation (“T”), settings, params: \"temperature\" must be between 0 and 2."),
    ("long model", relaychat(settings={"model": "m" * 201}), "settings: \"model\" is longer than 200 characters."),
    ("backup conversations", {"format": "relaychat.backup", "version": 1, "conversations": {}},
     "\"conversations\" must be a list."),
    ("chatgpt mapping", [{"title": "Chat", "mapping": []}],
     "conversation 1 (“Chat”): \"mapping\" must be an object, not a list."),
    ("chatgpt parent", [{"title": "Chat", "mapping": {"a": chatgpt_node(None), "b": chatgpt_node("zz")}}],
     "conversation 1 (“Chat”), node 'b': \"parent\" 'zz' is not in the mapping."),
    ("chatgpt cycle", [{"mapping": {"r": chatgpt_node(None), "a": chatgpt_node("b"), "b": chatgpt_node("a")}}],
     "conversation 1: node 'a' is in a cycle of parents, not under a root."),
    ("chatgpt role", [{"mapping": {"r": chatgpt_node(None) | {"message": {"author": {"role": 3}}}}}],
     "conversation 1, node 'r', message, author: \"role\" must be text, not a number."),
    ("chatgpt nothing visible", [{"mapping": {"r": chatgpt_node(None, role="system")}}],
     "there is no conversation with visible messages to import."),
    ("openai role", [{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}],
     "upload.json, message 2: \"role\" must be one of system, developer, user, assistant, tool, function, "
     "not 'robot'."),
    ("openai content", [{"role": "user", "content": 5}],
     "message 1: \"content\" must be text or a list of content parts."),
    ("openai only system", [{"role": "system", "content": "x"}], "there are no user or assistant messages"),
    ("openai params", {"messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
     "upload.json, params: \"max_tokens\" must be at least 1."),
]


@pytest.mark.parametrize(("document", "expected"), [case[1:] for case in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_files_say_what_is_wrong_and_import_nothing(
    db: Database, alice: User, document: Any, expected: str
) -> None:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    before = conversation_count(db)
    with pytest.raises(ImportFormatError) as caught:
        import_bytes(db, alice, raw)
    assert expected in str(caught.value)
    assert conversation_count(db) == before


def test_a_bad_conversation_late_in_a_backup_imports_nothing(db: Database, alice: User) -> None:
    good = relaychat()["conversation"]
    bad = relaychat(title="Broken", messages=[{"id": 1, "role": "user", "content": None}])["conversation"]
    backup = {"format": "relaychat.backup", "version": 1, "conversations": [good, good, bad]}

    with pytest.raises(ImportFormatError, match="conversation 3 \\(“Broken”\\), message 1: \"content\" is missing"):
        import_bytes(db, alice, json.dumps(backup).encode())
    assert conversation_count(db) == 0


def test_zip_without_conversations(db: Database, alice: User) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.json", "[]")
        zipped.writestr("b.json", "[]")
    with pytest.raises(ImportFormatError, match="has no conversations.json"):
        import_bytes(db, alice, archive.getvalue(), "export.zip")
    with pytest.raises(ImportFormatError, match="damaged zip"):
        import_bytes(db, alice, b"PK\x03\x04broken", "export.zip")
