"""Ids from links: only ASCII digits that an id column holds; everything else is no id (and never a query)."""

from __future__ import annotations

import pytest

from services.ids import MAX_ID, parse_id


@pytest.mark.parametrize("text", ["1", "42", str(MAX_ID)])
def test_ascii_digits_within_int64_are_an_id(text: str) -> None:
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [None, "", "0", "-1", "+5", " 7", "7 ", "1.0", "abc", "١٢", "²", "１２", str(MAX_ID + 1), "9" * 20, "1" * 10_000],
)
def test_anything_else_is_no_id(text: str | None) -> None:
    assert parse_id(text) is None
