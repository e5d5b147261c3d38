"""Hostile and broken import files: each gets an ImportFormatError saying what is wrong (shown on the Import page)
and imports nothing; nothing reaches the database that it cannot hold, and a zip bomb is refused while reading."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from db.engine import Database
from db.models import User
from services import history
from services.history import ImportFormatError
from tests.services.test_history import FIRST_MESSAGE, conversation_count, import_bytes, message, relaychat


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def chatgpt(**conversation: Any) -> list[dict[str, Any]]:
    node = {"parent": None, "children": [],
            "message": {"author": {"role": "user"}, "content": {"content_type": "text", "parts": ["hi"]}}}
    return [{"title": "Chat", "mapping": {"r": node}} | conversation]


HUGE = 10**30
HOSTILE: list[tuple[str, str | bytes, str]] = [
    ("deep file", "[" * 100_000 + "]" * 100_000, "upload.json is nested deeper than"),
    ("deep object file", '{"a":' * 100_000 + "1" + "}" * 100_000, "upload.json is nested deeper than"),
    ("deep request", json.dumps(relaychat(messages=[FIRST_MESSAGE, message(request=nested(300))])),
     "upload.json is nested deeper than"),
    ("10^30 usage", json.dumps(relaychat(messages=[FIRST_MESSAGE, message(usage={"prompt_tokens": HUGE})])),
     "upload.json holds a whole number beyond 64 bits at .conversation.messages[1].usage.prompt_tokens"),
    ("10^30 chosen index", json.dumps(relaychat(messages=[FIRST_MESSAGE, message(chosen_index=HUGE)])),
     "beyond 64 bits at .conversation.messages[1].chosen_index"),
    ("10^30 message id", json.dumps(relaychat(messages=[FIRST_MESSAGE | {"id": HUGE}], current_leaf=HUGE)),
     "beyond 64 bits"),
    ("10^30 chatgpt time", json.dumps(chatgpt(create_time=HUGE)), "beyond 64 bits at [0].create_time"),
    ("5000-digit number", '{"format": "relaychat.conversation", "version": ' + "9" * 5000 + "}",
     "upload.json holds a number with thousands of digits"),
    ("NaN in a request", json.dumps(relaychat(messages=[FIRST_MESSAGE, message(request={"temperature": float("nan")})])),
     "upload.json holds NaN at .conversation.messages[1].request.temperature"),
    ("Infinity in params", json.dumps(relaychat(settings={"params": {"top_p": float("inf")}})),
     "holds Infinity at .conversation.settings.params.top_p"),
    ("year 1 east of UTC", json.dumps(relaychat(created_at="0001-01-01T00:30:00+01:00")),
     "the conversation (“T”): \"created_at\" '0001-01-01T00:30:00+01:00' is out of the range of dates"),
    ("year 9999 west of UTC", json.dumps(relaychat(messages=[FIRST_MESSAGE, message(created_at="9999-12-31T23:00:00-05:00")])),
     "message 2: \"created_at\" '9999-12-31T23:00:00-05:00' is out of the range of dates"),
    ("year 10000", json.dumps(relaychat(updated_at="10000-01-01T00:00:00")), "is not an ISO 8601 date and time"),
    ("deep params schema", json.dumps(relaychat(settings={"params": {
        "response_format": "json_schema", "json_schema": {"name": "r", "schema": nested(40)}}})),
     "settings, params: \"json_schema\" is nested deeper than 64 levels."),
]


@pytest.mark.parametrize(("raw", "expected"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_files_say_what_is_wrong_and_import_nothing(db: Database, alice: User, raw: str, expected: str) -> None:
    with pytest.raises(ImportFormatError) as caught:
        import_bytes(db, alice, raw.encode() if isinstance(raw, str) else raw)
    assert expected in str(caught.value)
    assert conversation_count(db) == 0


@pytest.mark.parametrize(
    "value", ["0001-01-01T01:00:00+01:00", "9999-12-31T18:59:59-05:00", "1970-01-01T00:00:00Z"],
)
def test_dates_at_the_edge_of_the_range_import(db: Database, alice: User, value: str) -> None:
    result = import_bytes(db, alice, json.dumps(relaychat(created_at=value)).encode())
    assert len(result.conversation_ids) == 1


@pytest.mark.parametrize("seconds", [1e30, -1e30, 253402300800, float(2**62)], ids=["1e30", "-1e30", "year-10000", "2^62"])
def test_chatgpt_times_out_of_range_fall_back_instead_of_failing(db: Database, alice: User, seconds: float) -> None:
    result = import_bytes(db, alice, json.dumps(chatgpt(create_time=seconds, update_time=seconds)).encode())
    assert result.message_count == 1


def zipped(name: str, data: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as writer:
        writer.writestr(name, data)
    return archive.getvalue()


def lying_about_size(raw: bytes, claimed: int) -> bytes:
    """The archive with its member's uncompressed size rewritten in both headers, as a hostile file would."""
    patched = bytearray(raw)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = patched.find(signature)
        patched[at + offset:at + offset + 4] = claimed.to_bytes(4, "little")
    return bytes(patched)


def test_a_zip_that_expands_past_the_bound_is_refused_while_reading(
    db: Database, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "MAX_IMPORT_BYTES", 1_000_000)
    bomb = zipped("conversations.json", b"[" + b" " * 5_000_000 + b"]")  # 5 MB of spaces: a few KB zipped
    assert len(bomb) < 50_000
    with pytest.raises(ImportFormatError, match="conversations.json expands to more than 1 MB, too large to import"):
        import_bytes(db, alice, bomb, "export.zip")
    # A header that claims a small size does not get the rest read past it: the archive is damaged.
    with pytest.raises(ImportFormatError, match="damaged zip archive"):
        import_bytes(db, alice, lying_about_size(bomb, 100), "export.zip")
    assert conversation_count(db) == 0


def test_a_zip_within_the_bound_imports(db: Database, alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "MAX_IMPORT_BYTES", 1_000_000)
    raw = zipped("export/conversations.json", json.dumps(chatgpt()).encode() + b" " * 900_000)
    assert import_bytes(db, alice, raw, "export.zip").message_count == 1


def test_a_plain_file_past_the_bound_is_refused(db: Database, alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "MAX_IMPORT_BYTES", 1_000_000)
    with pytest.raises(ImportFormatError, match="upload.json is larger than 1 MB"):
        import_bytes(db, alice, b"[" + b" " * 1_000_001 + b"]")
