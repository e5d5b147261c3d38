"""Bounds on JSON fields: deep nesting, NaN/Infinity, numbers beyond 64 bits and oversized text are refused with a
message naming the field, typed in the sidebar or read back from storage; the API's published bounds apply."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services import json_limits
from services.json_limits import JsonLimitError
from services.params import ChatParams, ParameterError, from_form
from tests.services.test_params_playground import WEATHER, form


def deep_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def deep_value(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": [value]}
    return value


@pytest.mark.parametrize(
    "text",
    [deep_list(100_000), deep_object(100_000), deep_list(json_limits.MAX_DEPTH + 1), deep_object(2_000)],
    ids=["list-100000", "object-100000", "list-65", "object-2000"],
)
def test_deep_json_text_is_refused_not_a_recursion_error(text: str) -> None:
    with pytest.raises(JsonLimitError, match="nested deeper than 64 levels"):
        json_limits.loads(text)


def test_nesting_up_to_the_bound_is_accepted() -> None:
    assert json_limits.loads(deep_list(json_limits.MAX_DEPTH)) == json.loads(deep_list(json_limits.MAX_DEPTH))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('{"top_k": NaN}', "NaN at .top_k"),
        ('{"a": [1, Infinity]}', "Infinity at .a[1]"),
        ('{"a b": -Infinity}', 'Infinity at ["a b"]'),
        ('{"x": 1e999}', "Infinity at .x"),
        ("NaN", "NaN:"),
    ],
)
def test_non_finite_numbers_are_refused_saying_where(text: str, shown: str) -> None:
    with pytest.raises(JsonLimitError, match="must be finite") as raised:
        json_limits.loads(text)
    assert shown in str(raised.value)


@pytest.mark.parametrize("text", ["1" + "0" * 30, '{"n": -' + "9" * 20 + "}", "[" + "7" * 10_000 + "]"])
def test_integers_beyond_64_bits_are_refused(text: str) -> None:
    with pytest.raises(JsonLimitError, match="64 bits"):
        json_limits.loads(text)


def test_oversized_text_is_refused_before_parsing() -> None:
    with pytest.raises(JsonLimitError, match="characters long"):
        json_limits.loads("[" + "1," * 600_000 + "1]")


def test_values_too_deep_for_recursion_are_checked() -> None:
    with pytest.raises(JsonLimitError, match="nested deeper"):
        json_limits.check(deep_value(50_000))
    json_limits.check(deep_value(30))  # 60 levels: fine


# --- every JSON field of the sidebar, typed ----------------------------------------------------------------

JSON_FIELDS = ["tools", "logit_bias", "extra_body"]


@pytest.mark.parametrize("field", [*JSON_FIELDS, "json_schema"])
@pytest.mark.parametrize("text", [deep_list(100_000), deep_object(100_000)], ids=["list", "object"])
def test_a_deep_json_field_gets_a_message_under_that_field(field: str, text: str) -> None:
    extra = {"response_format": "json_schema"} if field == "json_schema" else {}
    params, errors = from_form(form(**{field: text}, **extra))
    assert params is None
    assert errors == {field: "is nested deeper than 64 levels."}


@pytest.mark.parametrize("field", JSON_FIELDS)
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_typed_in_any_json_field_are_refused(field: str, constant: str) -> None:
    text = {
        "tools": f'[{{"type": "function", "function": {{"name": "f", "parameters": {{"type": "object", "maximum": {constant}}}}}}}]',
        "logit_bias": f'{{"50256": {constant}}}',
        "extra_body": f'{{"top_k": {constant}}}',
    }[field]
    params, errors = from_form(form(**{field: text}))
    assert params is None
    assert "JSON numbers must be finite" in errors[field]


def test_a_deep_schema_stored_with_a_conversation_is_refused_not_crashing() -> None:
    data = {"response_format": "json_schema", "json_schema": {"name": "r", "schema": deep_value(10_000)}}
    with pytest.raises(ParameterError) as raised:
        ChatParams.from_dict(data)
    assert raised.value.field == "json_schema"
    assert ChatParams.lenient(data) == ChatParams()  # an opened conversation drops it instead of failing


def test_stored_extra_body_with_nan_is_left_out_so_never_sent() -> None:
    params = ChatParams.lenient({"temperature": 0.5, "extra_body": {"top_k": float("nan")}})
    assert params == ChatParams(temperature=0.5)


# --- the API's published bounds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"logit_bias": {str(t): -100 for t in range(5000)}}, "logit_bias", "at most 300 tokens are allowed (got 5,000)."),
        ({"logit_bias": {"9" * 10_000: 1}}, "logit_bias", "is not a token id"),
        ({"tools": [{**WEATHER, "function": {**WEATHER["function"], "name": f"f{i}"}} for i in range(129)]},
         "tools", "at most 128 tools are allowed (got 129)."),
        ({"max_tokens": 10**30}, "max_tokens", "fits in 64 bits"),
        ({"max_tokens": 1e300}, "max_tokens", "fits in 64 bits"),
        ({"extra_body": {"temperature": 5}}, "extra_body", "temperature must be between 0 and 2."),
        ({"extra_body": {"top_p": -0.1}}, "extra_body", "top_p must be between 0 and 1."),
        ({"extra_body": {"frequency_penalty": 2.5}}, "extra_body", "frequency_penalty must be between -2 and 2."),
        ({"extra_body": {"top_logprobs": 21}}, "extra_body", "top_logprobs must be between 0 and 20."),
        ({"extra_body": {"stop": ["a", "b", "c", "d", "e"]}}, "extra_body", "stop at most 4 sequences"),
        ({"extra_body": {"logit_bias": {str(t): 1 for t in range(301)}}}, "extra_body", "at most 300 tokens"),
        ({"extra_body": {"max_completion_tokens": 0}}, "extra_body", "max_completion_tokens must be at least 1."),
    ],
    ids=lambda v: json.dumps(v)[:40] if not isinstance(v, dict) else next(iter(v)),
)
def test_the_apis_published_bounds_apply(data: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ParameterError) as raised:
        ChatParams.from_dict(data)
    assert raised.value.field == field
    assert reason in raised.value.reason


def test_values_within_the_bounds_are_kept() -> None:
    params = ChatParams.from_dict({
        "logit_bias": {str(t): 100 for t in range(300)},
        "extra_body": {"top_logprobs": 20, "temperature": 2, "top_k": 40, "stop": ["x"]},
        "max_tokens": 2**63 - 1,
    })
    assert len(params.logit_bias or {}) == 300
    assert params.extra_body == {"top_logprobs": 20, "temperature": 2, "top_k": 40, "stop": ["x"]}


@pytest.mark.parametrize("reply", [deep_list(100_000), deep_object(100_000)], ids=["list", "object"])
def test_a_deep_json_reply_gets_a_badge_not_a_crash(reply: str) -> None:
    from services.json_reply import check_json_reply

    verdict = check_json_reply(reply)
    assert (verdict.parses, verdict.problem) == (False, "Not valid JSON: is nested deeper than 64 levels.")
