"""Row ids read from text (a link's ?c=): only what an id column can hold reaches the database."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # SQLite INTEGER and PostgreSQL BIGINT; a larger number makes the query itself fail
NO_ROW = 0  # ids start at 1: a malformed link looks up this id and reads as "not found"


def parse_id(text: str | None) -> int | None:
    """The id `text` spells in ASCII digits, or None: "١٢" (Arabic-Indic digits, which int() reads), "²",
    a 20-digit or 10,000-digit number, "0" and "-1" are no id."""
    if not text or len(text) > len(str(MAX_ID)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
