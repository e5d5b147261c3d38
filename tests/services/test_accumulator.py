"""Assembling replies from chunks as OpenAI, DeepSeek, vLLM and OpenRouter send them."""

from __future__ import annotations

import json

from services.accumulator import ReplyAccumulator, ToolCall, Usage, reply_from_response


def accumulate(chunks: list[dict]) -> ReplyAccumulator:
    reply = ReplyAccumulator()
    for chunk in chunks:
        reply.add(chunk)
    return reply


def openai_chunk(delta: dict, finish: str | None = None, **extra: object) -> dict:
    return {
        "id": "chatcmpl-AXc0Lm3fQ9Vh2",
        "object": "chat.completion.chunk",
        "created": 1732262400,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0ba0d124f1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
        **extra,
    }


OPENAI_USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 4,
    "total_tokens": 23,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}


def test_content_across_chunks_with_null_content_and_usage_chunk() -> None:
    reply = ReplyAccumulator()
    reply.add(openai_chunk({"role": "assistant", "content": "", "refusal": None}))
    assert reply.received_content is False  # the role chunk carries no text yet
    reply.add(openai_chunk({"content": "Hello"}))
    assert reply.received_content is True
    reply.add(openai_chunk({"content": None}))
    reply.add(openai_chunk({"content": ", world!"}))
    reply.add(openai_chunk({}, "stop"))
    reply.add({**openai_chunk({}), "choices": [], "usage": OPENAI_USAGE})  # stream_options.include_usage
    assert reply.content == "Hello, world!"
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(prompt_tokens=19, completion_tokens=4, total_tokens=23)
    assert (reply.id, reply.model, reply.created) == ("chatcmpl-AXc0Lm3fQ9Vh2", "gpt-4o-mini-2024-07-18", 1732262400)
    assert reply.system_fingerprint == "fp_0ba0d124f1"
    assert list(reply.choices) == [0]


def test_text_read_while_it_grows_is_always_what_arrived_so_far() -> None:
    # The page reads the reply between chunks (a snapshot every 50 ms) while the worker keeps adding to it.
    reply, sent = ReplyAccumulator(), []
    for i in range(300):
        piece = f"w{i} "
        reply.add(openai_chunk({"content": piece, "reasoning_content": piece.upper()}))
        sent.append(piece)
        if i % 7 == 0:
            assert reply.content == "".join(sent)
            assert reply.reasoning == "".join(sent).upper()
    assert reply.content == "".join(sent) and reply.reasoning == "".join(sent).upper()


def deepseek_chunk(content: str | None, reasoning: str | None, finish: str | None = None, usage: dict | None = None) -> dict:
    chunk = {
        "id": "f5b8c2e4-3f0a-4a57-9d0c-2b1c8a4e7d11",
        "object": "chat.completion.chunk",
        "created": 1738400000,
        "model": "deepseek-reasoner",
        "system_fingerprint": "fp_7e73fd9a08_prod0225",
        "choices": [
            {
                "index": 0,
                "delta": {"content": content, "reasoning_content": reasoning},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
    }
    if usage:
        chunk["usage"] = usage
    return chunk


def test_deepseek_reasoning_content_then_content_with_usage_on_last_choice_chunk() -> None:
    reply = ReplyAccumulator()
    first = deepseek_chunk(None, "")
    first["choices"][0]["delta"]["role"] = "assistant"
    reply.add(first)
    assert reply.received_content is False
    reply.add(deepseek_chunk(None, "The user greets me"))
    assert reply.received_content is True  # reasoning counts as the first token
    reply.add(deepseek_chunk(None, "; answer briefly."))
    reply.add(deepseek_chunk("Hi", None))
    reply.add(deepseek_chunk(" there!", None))
    usage = {
        "prompt_tokens": 13,
        "completion_tokens": 42,
        "total_tokens": 55,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 30},
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": 13,
    }
    reply.add(deepseek_chunk("", None, "stop", usage))
    assert reply.reasoning == "The user greets me; answer briefly."
    assert reply.content == "Hi there!"
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(13, 42, 55)


def openrouter_chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "gen-1738400000-aBcDeFgHiJkLmNoP",
        "provider": "DeepInfra",
        "model": "deepseek/deepseek-r1",
        "object": "chat.completion.chunk",
        "created": 1738400000,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "native_finish_reason": finish, "logprobs": None}],
    }


def test_reasoning_field_as_openrouter_and_new_vllm_send_it() -> None:
    reply = accumulate(
        [
            openrouter_chunk({"role": "assistant", "content": "", "reasoning": "Two plus two"}),
            openrouter_chunk({"role": "assistant", "content": "", "reasoning": " is four."}),
            # A relay that fills both names with the same text must not double it.
            openrouter_chunk({"content": "", "reasoning": " Done.", "reasoning_content": " Done."}),
            openrouter_chunk({"role": "assistant", "content": "4", "reasoning": None}, "stop"),
        ]
    )
    assert reply.reasoning == "Two plus two is four. Done."
    assert reply.content == "4"
    assert reply.model == "deepseek/deepseek-r1"


def tool_delta(*calls: dict, finish: str | None = None) -> dict:
    return openai_chunk({"tool_calls": list(calls)}, finish)


def test_two_tool_calls_with_interleaved_argument_fragments() -> None:
    reply = accumulate(
        [
            openai_chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"index": 0, "id": "call_Wx1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
                    ],
                    "refusal": None,
                }
            ),
            tool_delta({"index": 0, "function": {"arguments": '{"ci'}}),
            tool_delta({"index": 1, "id": "call_Tz2", "type": "function", "function": {"name": "get_time", "arguments": ""}}),
            tool_delta({"index": 1, "function": {"arguments": '{"tz"'}}),
            tool_delta({"index": 0, "function": {"arguments": 'ty": "Par'}}),
            tool_delta({"index": 1, "function": {"arguments": ': "Europe/Paris"}'}}),
            tool_delta({"index": 0, "function": {"arguments": 'is"}'}}),
            openai_chunk({}, "tool_calls"),
        ]
    )
    assert reply.received_content is True
    assert reply.content == ""
    assert reply.finish_reason == "tool_calls"
    weather, time = reply.tool_calls
    assert (weather.index, weather.id, weather.name) == (0, "call_Wx1", "get_weather")
    assert json.loads(weather.arguments) == {"city": "Paris"}
    assert (time.index, time.id, time.name) == (1, "call_Tz2", "get_time")
    assert json.loads(time.arguments) == {"tz": "Europe/Paris"}
    assert weather.to_api() == {
        "id": "call_Wx1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }


def test_tool_call_without_index_and_with_repeated_name() -> None:
    reply = accumulate(
        [
            tool_delta({"id": "call_1", "type": "function", "function": {"name": "search", "arguments": '{"q": '}}),
            tool_delta({"function": {"name": "search", "arguments": '"cats"'}}),
            tool_delta({"id": "call_1", "function": {"name": "search", "arguments": "}"}}),
        ]
    )
    assert reply.tool_calls == [ToolCall(index=0, id="call_1", name="search", arguments='{"q": "cats"}')]


def test_tool_calls_without_index_told_apart_by_id() -> None:
    # Gemini's OpenAI-compatible endpoint sends whole calls, without index, one per delta.
    reply = accumulate(
        [
            tool_delta({"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}),
            tool_delta({"id": "b", "type": "function", "function": {"name": "g", "arguments": {"x": 1}}}),
        ]
    )
    assert [(c.index, c.id, c.name, c.arguments) for c in reply.tool_calls] == [(0, "a", "f", "{}"), (1, "b", "g", '{"x": 1}')]


def test_tool_call_name_streamed_in_pieces() -> None:
    reply = accumulate(
        [
            tool_delta({"index": 0, "id": "c", "function": {"name": "get_", "arguments": ""}}),
            tool_delta({"index": 0, "function": {"name": "weather", "arguments": "{}"}}),
        ]
    )
    assert reply.tool_calls[0].name == "get_weather"


def vllm_chunk(index: int, content: str, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-9f3c1a7e2b5d4c8e",
        "object": "chat.completion.chunk",
        "created": 1738400000,
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "choices": [
            {"index": index, "delta": {"content": content}, "logprobs": None, "finish_reason": finish, "stop_reason": None}
        ],
    }


def test_n2_interleaved_choices() -> None:
    reply = accumulate(
        [
            vllm_chunk(0, "Red"),
            vllm_chunk(1, "Blue"),
            vllm_chunk(1, " sky", "stop"),
            vllm_chunk(0, " apples"),
            vllm_chunk(0, "", "length"),
            {**vllm_chunk(0, ""), "choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 5, "total_tokens": 13}},
        ]
    )
    assert sorted(reply.choices) == [0, 1]
    assert (reply.choice(0).content, reply.choice(0).finish_reason) == ("Red apples", "length")
    assert (reply.choice(1).content, reply.choice(1).finish_reason) == ("Blue sky", "stop")
    assert reply.content == "Red apples"
    assert reply.usage == Usage(8, 5, 13)


def test_usage_last_one_wins_and_null_does_not_erase_it() -> None:
    reply = accumulate(
        [
            openai_chunk({"content": "a"}, usage={"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}),
            openai_chunk({"content": "b"}, usage=None),
            openai_chunk({"content": "c"}, usage={"prompt_tokens": 5, "completion_tokens": 3}),
        ]
    )
    assert reply.usage == Usage(5, 3, 8)  # total filled in when the server leaves it out


def test_usage_from_api() -> None:
    assert Usage.from_api(None) is None
    assert Usage.from_api({}) is None
    assert Usage.from_api({"prompt_tokens": "12", "completion_tokens": True}) is None
    assert Usage.from_api({"total_tokens": 7}) == Usage(total_tokens=7)


def test_fields_of_unexpected_types_are_ignored() -> None:
    reply = ReplyAccumulator()
    for junk in [
        "not a dict",
        {"choices": "oops", "usage": "lots", "id": 5, "created": "yesterday"},
        {"choices": [None, 3, {"index": "0", "delta": "text", "finish_reason": 1}]},
        openai_chunk({"content": 5, "reasoning_content": ["x"], "tool_calls": "call"}),
        openai_chunk({"tool_calls": [None, {"index": 0, "id": 9, "type": None, "function": "f"}]}),
        openai_chunk({"tool_calls": [{"index": 0, "function": {"name": 1, "arguments": 2}}]}),
    ]:
        reply.add(junk)  # type: ignore[arg-type]
    assert reply.content == "" and reply.reasoning == "" and reply.finish_reason is None
    assert reply.tool_calls == [ToolCall(index=0)]
    assert reply.usage is None
    assert reply.id == "chatcmpl-AXc0Lm3fQ9Vh2"


def test_properties_do_not_create_choices() -> None:
    reply = ReplyAccumulator()
    assert (reply.content, reply.reasoning, reply.finish_reason, reply.tool_calls) == ("", "", None, [])
    assert reply.choices == {}
    assert reply.choice(2).content == "" and list(reply.choices) == [2]


def test_reply_from_response_with_tool_calls_and_usage() -> None:
    body = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_a1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                        {"id": "call_b2", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}},
                    ],
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 82,
            "completion_tokens": 51,
            "total_tokens": 133,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035",
    }
    reply = reply_from_response(body)
    assert reply.id == "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    assert reply.model == "gpt-4o-2024-08-06"
    assert reply.system_fingerprint == "fp_fc9f1d7035"
    assert reply.finish_reason == "tool_calls"
    assert reply.content == ""
    assert reply.usage == Usage(82, 51, 133)
    assert [c.to_api() for c in reply.tool_calls] == body["choices"][0]["message"]["tool_calls"]
    assert reply.received_content is True
    assert body["choices"][0]["message"]["tool_calls"][0].get("index") is None  # the body is not modified


def test_reply_from_response_with_reasoning() -> None:
    deepseek = {
        "id": "930c60df-bf64-41c9-a88e-3ec75f81e00e",
        "object": "chat.completion",
        "created": 1738400000,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "4", "reasoning_content": "2 + 2 = 4."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
    }
    reply = reply_from_response(deepseek)
    assert (reply.content, reply.reasoning, reply.finish_reason) == ("4", "2 + 2 = 4.", "stop")

    vllm = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "Qwen/Qwen3-8B",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi", "reasoning": "Greet back.", "tool_calls": []},
                "finish_reason": "stop",
            },
            {"index": 1, "message": {"role": "assistant", "content": "Hello", "reasoning": None}, "finish_reason": "stop"},
        ],
    }
    reply = reply_from_response(vllm)
    assert (reply.content, reply.reasoning, reply.tool_calls) == ("Hi", "Greet back.", [])
    assert reply.choice(1).content == "Hello"
    assert reply.usage is None


def test_reply_from_response_of_an_odd_body() -> None:
    assert reply_from_response({}).choices == {}
    assert reply_from_response([]).content == ""  # type: ignore[arg-type]
