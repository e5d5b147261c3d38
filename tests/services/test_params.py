"""Request parameters: validation of stored values, and the request body that OpenAI's schema accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from services.params import ChatParams, ParameterError, build_chat_body, without_stream_usage

REQUEST_SCHEMA = Path(__file__).parents[1] / "fake_openai" / "schemas" / "chat-completions-request.schema.json"
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Reply in JSON."},
]


@pytest.fixture(scope="module")
def request_schema() -> Draft202012Validator:
    return Draft202012Validator(json.loads(REQUEST_SCHEMA.read_text()))


# --- ChatParams.from_dict ----------------------------------------------------------------------------------


def test_from_dict_reads_valid_values() -> None:
    params = ChatParams.from_dict(
        {"temperature": 0, "top_p": 1, "max_tokens": 256.0, "response_format": "json_object", "stream": False}
    )
    assert params == ChatParams(temperature=0.0, top_p=1.0, max_tokens=256, response_format="json_object", stream=False)
    assert isinstance(params.temperature, float) and isinstance(params.max_tokens, int)


def test_from_dict_treats_missing_none_and_unknown_keys_as_unset() -> None:
    assert ChatParams.from_dict(None) == ChatParams()
    assert ChatParams.from_dict({"temperature": None, "no_such_parameter": 1.5}) == ChatParams()


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"temperature": -0.1}, "temperature", "must be between 0 and 2."),
        ({"temperature": 2.01}, "temperature", "must be between 0 and 2."),
        ({"temperature": 10**400}, "temperature", "must be between 0 and 2."),
        ({"top_p": 1.5}, "top_p", "must be between 0 and 1."),
        ({"max_tokens": 0}, "max_tokens", "must be at least 1."),
        ({"max_tokens": 12.5}, "max_tokens", "must be a whole number."),
        ({"temperature": float("nan")}, "temperature", "must be a finite number."),
        ({"max_tokens": float("inf")}, "max_tokens", "must be a finite number."),
        ({"temperature": True}, "temperature", "must be a number."),
        ({"max_tokens": "100"}, "max_tokens", "must be a number."),
        ({"response_format": "json_schema"}, "json_schema", "response_format json_schema needs a schema: enter one below it."),
        ({"response_format": "xml"}, "response_format", "must be one of text, json_object, json_schema."),
        ({"stream": "yes"}, "stream", "must be true or false."),
    ],
)
def test_from_dict_rejects_values_that_cannot_be_sent(data: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ParameterError) as raised:
        ChatParams.from_dict(data)
    assert (raised.value.field, raised.value.reason) == (field, reason)


def test_bounds_are_inclusive() -> None:
    params = ChatParams.from_dict({"temperature": 2, "top_p": 0, "max_tokens": 1})
    assert params == ChatParams(temperature=2.0, top_p=0.0, max_tokens=1)


def test_to_dict_round_trips() -> None:
    for params in (
        ChatParams(),
        ChatParams(temperature=0.7, max_tokens=100, stream=False),
        ChatParams(top_p=0.9, response_format="text"),
    ):
        assert ChatParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params
    assert ChatParams(temperature=0.7).to_dict() == {"temperature": 0.7, "stream": True, "include_usage": True}


def test_notes_warn_when_temperature_and_top_p_are_both_set() -> None:
    assert ChatParams(temperature=0.5).notes() == []
    assert ChatParams(top_p=0.5).notes() == []
    [(field, note)] = ChatParams(temperature=0.5, top_p=0.5).notes()
    assert field == "top_p" and "temperature" in note and "top_p" in note


# --- build_chat_body ---------------------------------------------------------------------------------------


def test_unset_parameters_are_absent() -> None:
    body = build_chat_body("gpt-test", MESSAGES, ChatParams(stream=False))
    assert body == {"model": "gpt-test", "messages": MESSAGES}


def test_set_parameters_are_sent() -> None:
    params = ChatParams(temperature=0.2, top_p=0.9, max_tokens=64, response_format="json_object")
    body = build_chat_body(" gpt-test ", MESSAGES, params)
    assert set(body) == {
        "model", "messages", "temperature", "top_p", "max_tokens", "response_format", "stream", "stream_options"
    }
    assert body["model"] == "gpt-test"
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.2, 0.9, 64)
    assert body["response_format"] == {"type": "json_object"}
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})


def test_stream_options_only_when_usage_is_wanted() -> None:
    body = build_chat_body("m", MESSAGES, ChatParams(), include_usage=False)
    assert set(body) == {"model", "messages", "stream"}
    with_usage = build_chat_body("m", MESSAGES, ChatParams())
    assert without_stream_usage(with_usage) == body
    assert "stream_options" in with_usage  # without_stream_usage returned a copy


def test_body_does_not_share_messages_with_the_caller() -> None:
    body = build_chat_body("m", MESSAGES, ChatParams())
    body["messages"][0]["content"] = "changed"
    assert MESSAGES[0]["content"] == "Be brief."


def test_a_model_is_required() -> None:
    with pytest.raises(ParameterError) as raised:
        build_chat_body("  ", MESSAGES, ChatParams())
    assert raised.value.field == "model"


REPRESENTATIVE = [
    ChatParams(),
    ChatParams(stream=False),
    ChatParams(temperature=0.0, max_tokens=1),
    ChatParams(temperature=2.0, top_p=1.0, max_tokens=100_000),
    ChatParams(top_p=0.0, response_format="text"),
    ChatParams(response_format="json_object", stream=False),
    ChatParams.from_dict({"temperature": 1, "top_p": 0.5, "max_tokens": 2.0, "response_format": "json_object"}),
]


@pytest.mark.parametrize("params", REPRESENTATIVE, ids=lambda p: json.dumps(p.to_dict()))
@pytest.mark.parametrize("include_usage", [True, False])
def test_every_body_matches_openais_request_schema(
    params: ChatParams, include_usage: bool, request_schema: Draft202012Validator
) -> None:
    body = build_chat_body("gpt-4o-mini", MESSAGES, params, include_usage=include_usage)
    for sent in (body, without_stream_usage(body)):
        assert [error.message for error in request_schema.iter_errors(json.loads(json.dumps(sent)))] == []


def test_the_schema_check_catches_a_malformed_body(request_schema: Draft202012Validator) -> None:
    body = build_chat_body("gpt-4o-mini", MESSAGES, ChatParams())
    assert not request_schema.is_valid({**body, "response_format": "json_object"})
    assert not request_schema.is_valid({**body, "temperature": 3})


@pytest.mark.parametrize(
    "stored, kept",
    [
        ({"temperature": 0.5, "logit_bias": {"abc": 5}}, {"temperature": 0.5}),
        # the fault is a missing schema: response_format goes, temperature and seed stay
        ({"temperature": 0.5, "seed": 1, "response_format": "json_schema"}, {"temperature": 0.5, "seed": 1}),
        ({"temperature": 0.5, "tool_choice": "get_weather"}, {"temperature": 0.5}),
    ],
)
def test_stored_parameters_keep_every_value_that_still_validates(stored, kept):
    params = ChatParams.lenient(stored)
    assert {name: getattr(params, name) for name in ("temperature", "seed", "response_format", "tool_choice",
                                                      "logit_bias")} == {
        "temperature": None, "seed": None, "response_format": None, "tool_choice": None, "logit_bias": None, **kept}


def test_an_example_tool_is_added_once_to_what_was_typed():
    from services.params import EXAMPLE_TOOLS, with_example_tool

    once = with_example_tool("", "get_weather")
    assert json.loads(once) == [EXAMPLE_TOOLS["get_weather"]]
    assert json.loads(with_example_tool(once, "get_weather")) == [EXAMPLE_TOOLS["get_weather"]]
    assert [t["function"]["name"] for t in json.loads(with_example_tool(once, "search"))] == ["get_weather", "search"]
    with pytest.raises(ParameterError):
        with_example_tool('{"not": "a list"}', "search")
