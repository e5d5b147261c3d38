"""Hostile values typed into the sidebar's JSON fields get a message under the field, the page keeps working and
nothing is sent (a 100,000-deep tools list used to replace the whole page with "Something went wrong")."""

from __future__ import annotations

import json

import pytest

from tests.pages.test_chat_page import send, texts
from tests.pages.test_parameters_page import error_next_to, message_count, param, typed_message

DEEP = "[" * 100_000 + "]" * 100_000
CASES = {
    "deep tools": ("tools", DEEP, "is nested deeper than 64 levels."),
    "deep extra body": ("extra_body", '{"a": ' * 100_000 + "1" + "}" * 100_000, "is nested deeper than 64 levels."),
    "NaN in extra body": ("extra_body", '{"top_k": NaN}',
                          "holds NaN at .top_k: JSON numbers must be finite (NaN and Infinity are not JSON)."),
    "Infinity in logit_bias": ("logit_bias", '{"50256": Infinity}',
                               'holds Infinity at ["50256"]: JSON numbers must be finite (NaN and Infinity are not JSON).'),
    "5000 logit_bias keys": ("logit_bias", json.dumps({str(t): 1 for t in range(5000)}),
                             "at most 300 tokens are allowed (got 5,000)."),
    "temperature 5 in extra body": ("extra_body", '{"temperature": 5}', "temperature must be between 0 and 2."),
}

LABELS = {"tools": "tools", "extra_body": "extra body", "logit_bias": "logit_bias"}


@pytest.mark.parametrize(("field", "value", "reason"), CASES.values(), ids=CASES.keys())
def test_a_hostile_json_field_is_explained_under_it_and_nothing_is_sent(configured, open_app, field, value, reason):
    at = send(open_app(), "First question")
    before = (message_count(), texts(at))

    at.text_area(key=param(field)).set_value(value).run()
    assert not at.exception
    # Every message under a field starts with the field's name.
    assert error_next_to(at, param(field)) == f"{LABELS[field]}: {reason}"
    send(at, "Will this be sent?")

    assert not at.exception
    assert len(configured.chat_bodies) == 1, "nothing reaches the endpoint"
    assert (message_count(), texts(at)) == before, "the conversation is unchanged"
    assert typed_message(at) == "Will this be sent?", "the typed message is kept"


def test_a_tool_call_with_100000_deep_arguments_is_shown_raw_not_crashing(configured, open_app):
    from services.params import EXAMPLE_TOOLS
    from tests.fake_openai import Reply

    deep_call = {"id": "call_deep", "name": "get_weather", "arguments": DEEP}
    configured.enqueue(Reply(tool_calls=[deep_call]))
    at = open_app()
    at.text_area(key=param("tools")).set_value(json.dumps([EXAMPLE_TOOLS["get_weather"]])).run()
    send(at, "Weather?")

    assert not at.exception
    assert any("not valid JSON" in warning.value for warning in at.chat_message[1].warning)
    assert DEEP in [code.value for code in at.chat_message[1].code]
