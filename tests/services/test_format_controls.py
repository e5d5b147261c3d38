"""Titles and file names lose the invisible characters that reorder or hide text, in every form, wherever they
come from (typed, imported, attached, already stored); Arabic, Hebrew, Persian and emoji text stay as they are."""

from __future__ import annotations

import json

import pytest

from db.engine import Database
from db.models import User
from services import conversations
from services.attachments import Attachment, AttachmentError, read_upload
from services.format_controls import strip_format_controls
from services.rendering import escape_markdown
from services.runtime import Runtime
from tests.services.test_history import conversation_count, import_bytes, relaychat

SPOOFED = {
    "right-to-left override": ("invoice\u202egnp.exe", "invoicegnp.exe"),
    "left-to-right override": ("\u202dabc\u202c", "abc"),
    "embeddings": ("a\u202bb\u202ac\u202c", "abc"),
    "isolates": ("\u2067\u05e9\u05dc\u05d5\u05dd\u2069 \u2066x\u2069 \u2068y\u2069", "\u05e9\u05dc\u05d5\u05dd x y"),
    "zero-width space": ("pay\u200bpal", "paypal"),
    "word joiner and bom": ("\ufeffa\u2060b", "ab"),
    "soft hyphen": ("sec\u00adret", "secret"),
    "tag characters": ("hi\U000e0049\U000e0047\U000e004e\U000e004f\U000e0052\U000e0045", "hi"),
}
LEGITIMATE = [
    "مرحبا بالعالم",  # Arabic
    "שלום עולם 2024",  # Hebrew with digits
    "می\u200cخواهم",  # Persian: the zero-width non-joiner is part of the spelling
    "👩\u200d💻 coder",  # an emoji ZWJ sequence
    "price \u200f(USD)\u200e",  # directional marks place punctuation, they reverse nothing
    "中文标题 English",
]


@pytest.mark.parametrize(("text", "expected"), SPOOFED.values(), ids=SPOOFED.keys())
def test_reordering_and_hiding_characters_are_removed(text: str, expected: str) -> None:
    assert strip_format_controls(text) == expected


@pytest.mark.parametrize("text", LEGITIMATE)
def test_right_to_left_scripts_and_emoji_are_unchanged(text: str) -> None:
    assert strip_format_controls(text) == text


def test_titles_shown_in_the_sidebar_and_header_are_cleaned() -> None:
    # Every title the page draws goes through escape_markdown, including titles stored before this check.
    assert escape_markdown("holiday\u202egnp.exe") == "holidaygnp.exe"
    assert escape_markdown("שלום *עולם*") == "שלום \\*עולם\\*"


@pytest.mark.parametrize("name", ["photo\u202egnp.exe", "\u200bphoto.exe", "photo.e\u2066xe"])
def test_an_attachment_cannot_pose_as_another_kind_of_file(name: str) -> None:
    with pytest.raises(AttachmentError) as refused:
        read_upload(name, b"MZ\x90\x00")
    assert "exe: this kind of file cannot be attached" in str(refused.value)
    assert strip_format_controls(str(refused.value)) == str(refused.value)


def test_attachment_names_are_cleaned_when_read_and_when_loaded() -> None:
    assert read_upload("notes\u202etxt.md", b"hello").name == "notestxt.md"
    assert Attachment.from_json({"name": "a\u202eb.txt", "kind": "text", "size": 1, "text": "x"}).name == "ab.txt"
    assert read_upload("ملاحظات.txt", b"hi").name == "ملاحظات.txt"


def test_imported_titles_are_cleaned(db: Database, alice: User) -> None:
    result = import_bytes(db, alice, json.dumps(relaychat(title="report\u202efdp.exe")).encode())
    with db.read() as session:
        from db import repository

        conversation = repository.get_conversation(session, alice, result.conversation_ids[0])
        assert conversation is not None and conversation.title == "reportfdp.exe"
    assert conversation_count(db) == 1


def test_a_renamed_title_is_cleaned_and_one_of_only_controls_is_empty(runtime: Runtime) -> None:
    from db import repository

    with runtime.db.write() as session:
        user = repository.ensure_user(session)
        conversation_id = repository.create_conversation(session, user, endpoint_id=None, model="m").id
    conversations.rename(runtime, user, conversation_id, "plan\u202efdp.scr")
    with runtime.db.read() as session:
        assert repository.get_conversation(session, user, conversation_id).title == "planfdp.scr"
    with pytest.raises(conversations.ChatError, match="cannot be empty"):
        conversations.rename(runtime, user, conversation_id, "\u202e\u200b")
