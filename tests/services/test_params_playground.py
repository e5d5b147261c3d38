"""The parameter playground: every parameter reaches the body exactly as set, and every bad value is refused
with the field and the reason, whether typed in the sidebar or read back from the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from services.params import (
    EXAMPLE_TOOLS,
    FORM_DEFAULTS,
    ChatParams,
    ParameterError,
    build_chat_body,
    from_form,
    to_form,
)

REQUEST_SCHEMA = Path(__file__).parents[1] / "fake_openai" / "schemas" / "chat-completions-request.schema.json"
MESSAGES = [{"role": "user", "content": "Hi"}]
BASE_KEYS = {"model", "messages", "stream", "stream_options"}
WEATHER, SEARCH = EXAMPLE_TOOLS["get_weather"], EXAMPLE_TOOLS["search"]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


@pytest.fixture(scope="module")
def request_schema() -> Draft202012Validator:
    return Draft202012Validator(json.loads(REQUEST_SCHEMA.read_text()))


def body_of(data: dict[str, Any], **options: Any) -> dict[str, Any]:
    # Through JSON, as it goes over the wire and as the fake endpoint sees it.
    return json.loads(json.dumps(build_chat_body("gpt-4o-mini", MESSAGES, ChatParams.from_dict(data), **options)))


def form(**values: Any) -> dict[str, Any]:
    return {**FORM_DEFAULTS, **values}


# --- set → sent exactly; unset → absent ------------------------------------------------------------------------

SENT = [
    ({"n": 2}, {"n": 2}),
    ({"presence_penalty": -2, "frequency_penalty": 1.5}, {"presence_penalty": -2.0, "frequency_penalty": 1.5}),
    ({"seed": 2**63 - 1}, {"seed": 9223372036854775807}),
    ({"seed": -(2**63)}, {"seed": -9223372036854775808}),
    ({"seed": -7}, {"seed": -7}),
    ({"stop": ["END", "\n\n", "a\tb", "###"]}, {"stop": ["END", "\n\n", "a\tb", "###"]}),
    ({"logit_bias": {"50256": -100, "42": 100, "7": 0}}, {"logit_bias": {"50256": -100, "42": 100, "7": 0}}),
    ({"user": "user-1234"}, {"user": "user-1234"}),
    ({"response_format": "json_object"}, {"response_format": {"type": "json_object"}}),
    (
        {"response_format": "json_schema", "json_schema": {"name": "reply", "strict": False, "schema": SCHEMA}},
        {"response_format": {
            "type": "json_schema", "json_schema": {"name": "reply", "strict": False, "schema": SCHEMA},
        }},
    ),
    ({"tools": [WEATHER, SEARCH]}, {"tools": [WEATHER, SEARCH]}),
    ({"tools": [WEATHER], "tool_choice": "required"}, {"tools": [WEATHER], "tool_choice": "required"}),
    ({"tools": [WEATHER], "tool_choice": "none"}, {"tools": [WEATHER], "tool_choice": "none"}),
    (
        {"tools": [WEATHER, SEARCH], "tool_choice": "search"},
        {"tools": [WEATHER, SEARCH], "tool_choice": {"type": "function", "function": {"name": "search"}}},
    ),
    (
        {"extra_body": {"top_k": 40, "reasoning_effort": "low", "enable_thinking": False}},
        {"top_k": 40, "reasoning_effort": "low", "enable_thinking": False},
    ),
]


@pytest.mark.parametrize(("data", "expected"), SENT, ids=lambda v: json.dumps(v)[:60])
def test_every_parameter_is_sent_exactly_as_set(data, expected, request_schema) -> None:
    body = body_of(data)
    assert {key: body[key] for key in set(body) - BASE_KEYS} == expected
    assert [error.message for error in request_schema.iter_errors(body)] == []


def test_everything_at_once_is_sent_exactly_and_validates(request_schema) -> None:
    data = {
        "temperature": 0.3, "top_p": 0.8, "n": 3, "max_tokens": 77, "presence_penalty": 0.5, "frequency_penalty": -0.5,
        "seed": 123, "stop": ["END"], "logit_bias": {"1": 5}, "user": "u", "response_format": "json_object",
        "tools": [WEATHER], "tool_choice": "get_weather", "extra_body": {"top_k": 40},
    }
    body = body_of(data)
    assert body == {
        "model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.3, "top_p": 0.8, "n": 3, "max_tokens": 77,
        "presence_penalty": 0.5, "frequency_penalty": -0.5, "seed": 123, "stop": ["END"], "logit_bias": {"1": 5},
        "user": "u", "response_format": {"type": "json_object"}, "tools": [WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "top_k": 40,
        "stream": True, "stream_options": {"include_usage": True},
    }
    assert [error.message for error in request_schema.iter_errors(body)] == []


def test_unset_parameters_are_absent() -> None:
    assert body_of({}) == {
        "model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}
    }
    assert from_form(form()) == (ChatParams(), {})


def test_max_tokens_goes_in_the_field_the_endpoint_wants(request_schema) -> None:
    plain = body_of({"max_tokens": 64})
    newer = body_of({"max_tokens": 64}, max_tokens_field="max_completion_tokens")
    assert (plain["max_tokens"], "max_completion_tokens" in plain) == (64, False)
    assert (newer["max_completion_tokens"], "max_tokens" in newer) == (64, False)
    assert request_schema.is_valid(newer)


def test_usage_off_or_no_stream_sends_no_stream_options() -> None:
    assert "stream_options" not in body_of({"include_usage": False})
    assert body_of({"include_usage": False})["stream"] is True
    assert "stream_options" not in body_of({}, include_usage=False)
    assert {"stream", "stream_options"}.isdisjoint(body_of({"stream": False}))


# --- bad values are refused with the field and the reason ------------------------------------------------------

NOT_A_SCHEMA = {"type": "objectt"}
REFUSED = [
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "at most 4 sequences are allowed (got 5)."),
    ({"logit_bias": {"abc": 5}}, "logit_bias", "key 'abc' is not a token id (a whole number)."),
    ({"logit_bias": {"²": 5}}, "logit_bias", "key '²' is not a token id (a whole number)."),
    ({"logit_bias": {"50256": 101}}, "logit_bias", "the bias of token 50256 is 101: it must be from −100 to 100."),
    ({"logit_bias": {"50256": -101}}, "logit_bias", "the bias of token 50256 is -101: it must be from −100 to 100."),
    (
        {"logit_bias": {"1": float("inf")}},
        "logit_bias", 'holds Infinity at ["1"]: JSON numbers must be finite (NaN and Infinity are not JSON).',
    ),
    (
        {"logit_bias": {"1": float("nan")}},
        "logit_bias", 'holds NaN at ["1"]: JSON numbers must be finite (NaN and Infinity are not JSON).',
    ),
    ({"logit_bias": {"1": "5"}}, "logit_bias", "the bias of token 1 must be a number."),
    ({"logit_bias": [1, 2]}, "logit_bias", 'must be a JSON object of token id → bias, e.g. {"50256": -100}.'),
    ({"tools": WEATHER}, "tools", "must be a JSON list of tools."),
    ({"tools": [{"type": "retrieval"}]}, "tools", 'tool 1 must be {"type": "function", "function": {…}}.'),
    (
        {"tools": [{"type": "function", "function": {"name": "get weather"}}]},
        "tools", "tool 1: the name must be 1–64 letters, digits, _ or - (got 'get weather').",
    ),
    ({"tools": [WEATHER, WEATHER]}, "tools", "tool 2: the name 'get_weather' is used twice."),
    (
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": NOT_A_SCHEMA}}]},
        "tools", "is not a valid JSON Schema at type: 'objectt' is not valid under any of the given schemas",
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}]},
        "tools", "tool 1: parameters must be a JSON Schema of type object.",
    ),
    ({"tools": [{**WEATHER, "extra": 1}]}, "tools", "tool 1 has unknown keys: extra."),
    (
        {"tools": [{"type": "function", "function": {"name": "f", "args": {}}}]},
        "tools", "tool 1: function has unknown keys: args.",
    ),
    ({"tools": [WEATHER], "tool_choice": "search"}, "tool_choice", "there is no tool named 'search'."),
    ({"tool_choice": "auto"}, "tool_choice", "only applies when tools are set."),
    (
        {"json_schema": {"name": "reply", "schema": NOT_A_SCHEMA}},
        "json_schema", "is not a valid JSON Schema at type: 'objectt' is not valid under any of the given schemas",
    ),
    (
        {"json_schema": {"name": "my reply", "schema": SCHEMA}},
        "json_schema", "the name must be 1–64 letters, digits, _ or -.",
    ),
    (
        {"response_format": "json_schema"},
        "json_schema", "response_format json_schema needs a schema: enter one below it.",
    ),
    ({"extra_body": ["top_k", 40]}, "extra_body", "must be a JSON object."),
    ({"extra_body": {"model": "other"}}, "extra_body", "cannot set model: use the chat itself for that."),
    ({"extra_body": {"messages": []}}, "extra_body", "cannot set messages: use the chat itself for that."),
]
# Out of the number widgets' reach, but possible in a stored or imported conversation.
NUMBERS_REFUSED = [
    ({"seed": 2**63}, "seed", "must be between -9.22337e+18 and 9.22337e+18."),
    ({"n": 9}, "n", "must be between 1 and 8."),
    ({"temperature": float("nan")}, "temperature", "must be a finite number."),
]


@pytest.mark.parametrize(
    ("data", "field", "reason"), REFUSED + NUMBERS_REFUSED, ids=lambda v: json.dumps(v, default=str)[:60]
)
def test_stored_or_imported_bad_values_are_refused(data, field, reason) -> None:
    with pytest.raises(ParameterError) as raised:
        ChatParams.from_dict(data)
    assert (raised.value.field, raised.value.reason) == (field, reason)


@pytest.mark.parametrize(("data", "field", "reason"), REFUSED, ids=lambda v: json.dumps(v, default=str)[:60])
def test_typed_bad_values_are_refused_the_same_way(data, field, reason) -> None:
    typed = dict(data)
    for name in ("logit_bias", "tools", "extra_body"):
        if name in typed:
            typed[name] = json.dumps(typed[name])
    if "stop" in typed:
        typed["stop"] = "\n".join(typed["stop"])
    if "json_schema" in typed:
        schema = typed.pop("json_schema")
        typed.update(
            response_format="json_schema", json_schema_name=schema["name"], json_schema=json.dumps(schema["schema"])
        )
    assert from_form(form(**typed)) == (None, {field: reason})


def test_the_form_reports_every_problem_at_once_each_under_its_field() -> None:
    params, errors = from_form(form(
        temperature=3.0,
        stop="a\nb\nc\nd\ne",
        logit_bias='{"abc": 5}',
        tools="[{",
        extra_body='{"model": "x"}',
        response_format="json_schema",
        json_schema="",
    ))
    assert params is None
    assert errors == {
        "temperature": "must be between 0 and 2.",
        "stop": "at most 4 sequences are allowed (got 5).",
        "logit_bias": "key 'abc' is not a token id (a whole number).",
        "tools": "is not valid JSON (line 1, column 3: Expecting property name enclosed in double quotes).",
        "extra_body": "cannot set model: use the chat itself for that.",
        "json_schema": "response_format json_schema needs a schema: enter one below it.",
    }


# --- round trips -----------------------------------------------------------------------------------------------

EVERYTHING = ChatParams.from_dict({
    "temperature": 0.3, "top_p": 0.8, "n": 3, "max_tokens": 77, "presence_penalty": -1.5, "frequency_penalty": 2,
    "seed": -(2**62), "response_format": "json_schema",
    "json_schema": {"name": "reply", "strict": False, "schema": SCHEMA},
    "stop": ["END", "\n\n", "a\tb"], "logit_bias": {"50256": -100}, "user": "u-1",
    "tools": [WEATHER, SEARCH], "tool_choice": "search", "extra_body": {"top_k": 40}, "include_usage": False,
})


@pytest.mark.parametrize(
    "params", [ChatParams(), ChatParams(stream=False), EVERYTHING], ids=["unset", "no-stream", "everything"]
)
def test_sidebar_and_database_round_trips(params: ChatParams) -> None:
    assert from_form(to_form(params)) == (params, {})
    assert ChatParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params


def test_a_stored_named_tool_choice_in_the_apis_shape_is_read() -> None:
    stored = {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
    assert body_of(stored)["tool_choice"] == stored["tool_choice"]
