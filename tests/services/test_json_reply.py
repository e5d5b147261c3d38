"""A JSON reply's badge: the schema it is checked against never makes the server fetch anything, and a schema
that is not one gives a badge, never an exception."""

from __future__ import annotations

import pytest

from services.json_reply import check_json_reply
from tests.outside_host import outside_host


@pytest.mark.parametrize("where", [
    lambda url: {"$ref": url},
    lambda url: {"type": "object", "properties": {"a": {"$ref": url}}},
    lambda url: {"$defs": {"x": {"$ref": url}}, "$ref": "#/$defs/x"},
    lambda url: {"allOf": [{"$ref": url}]},
    lambda url: {"$id": url.rsplit("/", 1)[0] + "/base.json", "$ref": "other.json"},  # relative to a remote $id
    lambda url: {"$ref": url.replace("http:", "")},  # scheme-relative
], ids=["root", "property", "via-defs", "allOf", "relative-to-id", "scheme-relative"])
def test_a_remote_ref_is_not_fetched_and_says_so(where) -> None:
    with outside_host() as host:
        verdict = check_json_reply('{"a": 1}', where(host.url("/schema.json")))
        assert host.paths == []
    assert verdict.parses and verdict.validates is False
    assert "not fetched" in verdict.problem


def test_a_local_ref_still_validates() -> None:
    schema = {"$defs": {"n": {"type": "integer"}}, "type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}}
    assert check_json_reply('{"a": 1}', schema).validates is True
    bad = check_json_reply('{"a": "x"}', schema)
    assert bad.validates is False and "at a" in bad.problem


@pytest.mark.parametrize("schema", [
    {"type": 12345},
    {"type": "object", "properties": {"a": {"minimum": "zero"}}},
    {"required": "a"},
    {"properties": []},
    [1, 2],
    "a string",
], ids=["type-number", "nested-minimum", "required-string", "properties-list", "list", "string"])
def test_a_malformed_schema_is_a_badge_not_a_crash(schema) -> None:
    verdict = check_json_reply('{"a": 1}', schema)
    assert verdict.parses and verdict.validates is False
    assert "schema" in verdict.problem.lower()


def test_a_schema_that_refers_to_itself_forever_is_a_badge() -> None:
    verdict = check_json_reply('{"a": 1}', {"$ref": "#"})
    assert verdict.validates is False and verdict.problem
