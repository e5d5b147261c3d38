"""A conversation whose stored schema is malformed or points elsewhere (an import, an older version) opens,
with the problem in the JSON badge: never a crash, never a fetch."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import Database
from db.models import Message
from tests.fake_openai import Reply
from tests.outside_host import outside_host


@pytest.mark.parametrize("schema", [{"type": 12345}, {"properties": {"a": {"minimum": "zero"}}}, "remote"],
                         ids=["type-number", "bad-keyword", "remote-ref"])
def test_a_conversation_with_a_bad_schema_opens_with_a_badge(configured, open_app, database_url, schema) -> None:
    configured.enqueue(Reply(content='{"a": 1}'))
    at = open_app()
    at.chat_input[0].set_value("Give me JSON").run()
    assert not at.exception
    with outside_host() as host:
        if schema == "remote":
            schema = {"$ref": host.url("/schema.json")}
        database = Database(database_url)
        with database.write() as session:  # as an import would have stored it
            reply = session.scalars(select(Message).where(Message.role == "assistant")).one()
            reply.request = {**(reply.request or {}), "response_format": {
                "type": "json_schema", "json_schema": {"name": "reply", "strict": True, "schema": schema}}}
        database.dispose()
        for _ in range(2):  # every open
            page = open_app(c="1")
            assert not page.exception, page.exception
            badges = [element.proto.body for element in page.markdown if "badge" in element.proto.body]
            assert any("schema" in badge for badge in badges), badges
        assert host.paths == []
