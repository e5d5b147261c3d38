"""Turns of the parameter playground through the runtime and the fake endpoint: n > 1 choices, the tool-call round
trip, View code against the real request, presets and the JSON badge."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from typing import Any

import pytest
from sqlalchemy import func, select

from db import repository
from db.models import Message
from services.chat import (
    CONTINUE_PROMPT, ChatError, ChatSettings, choose_choice, continue_reply, preview_request, send_message,
    submit_tool_results,
)
from services.codegen import RequestPreview, as_curl, as_javascript, as_python
from services.json_reply import check_json_reply
from services.keys import mask_key
from services.params import EXAMPLE_TOOLS, ChatParams
from services.presets import PresetError, delete_preset, list_presets, save_preset
from services.runtime import Runtime
from tests.fake_openai import Reply
from tests.services.replies import finished, local_user

API_KEY = "sk-test-key-0001"
WEATHER_CALL = {"id": "call_weather", "name": "get_weather", "arguments": '{"city": "Oslo", "unit": "celsius"}'}
SEARCH_CALL = {"id": "call_search", "name": "search", "arguments": '{"query": "Oslo news"}'}



def settings(runtime: Runtime, system_prompt: str = "", **params: Any) -> ChatSettings:
    with runtime.db.read() as session:
        endpoint = repository.config_endpoint(session, local_user(runtime))
    return ChatSettings(endpoint.id, "fake-gpt", system_prompt, ChatParams.from_dict(params))



def saved_path(runtime: Runtime, conversation_id: int) -> list[Message]:
    """The conversation as a reopened page reads it."""
    with runtime.db.read() as session:
        conversation = repository.get_conversation(session, local_user(runtime), conversation_id)
        return repository.message_path(session, conversation)


def api_call(call: dict[str, str]) -> dict[str, Any]:
    return {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}


# --- n > 1 -----------------------------------------------------------------------------------------------------


def test_every_choice_is_saved_and_the_chosen_one_continues(runtime, fake_openai):
    user, chat = local_user(runtime), settings(runtime, n=2)
    fake_openai.enqueue(Reply(contents=["Tea is calming.", "Coffee is bold."]))
    turn = send_message(runtime, user, None, "Tea or coffee?", chat)
    reply = finished(runtime, turn.assistant_message_id)

    assert fake_openai.chat_bodies[0]["n"] == 2
    assert [(c["index"], c["content"]) for c in reply.choices] == [(0, "Tea is calming."), (1, "Coffee is bold.")]
    assert (reply.chosen_index, reply.content, reply.status) == (0, "Tea is calming.", "complete")

    choose_choice(runtime, user, reply.id, 1)
    reply = finished(runtime, reply.id)
    assert (reply.chosen_index, reply.content) == (1, "Coffee is bold.")
    assert len(reply.choices) == 2, "the other choice stays saved"

    next_turn = send_message(runtime, user, turn.conversation_id, "Why?", settings(runtime))
    finished(runtime, next_turn.assistant_message_id)
    assert fake_openai.chat_bodies[-1]["messages"] == [
        {"role": "user", "content": "Tea or coffee?"},
        {"role": "assistant", "content": "Coffee is bold."},
        {"role": "user", "content": "Why?"},
    ]


def test_choosing_a_choice_that_does_not_exist_is_refused(runtime, fake_openai):
    user = local_user(runtime)
    fake_openai.enqueue(Reply(contents=["A", "B"]))
    reply = finished(runtime, send_message(runtime, user, None, "Pick", settings(runtime, n=2)).assistant_message_id)
    with pytest.raises(ChatError, match="no choice 3"):
        choose_choice(runtime, user, reply.id, 2)
    assert finished(runtime, reply.id).content == "A"


def test_stored_parameters_are_validated_before_they_are_sent(runtime, fake_openai):
    user, endpoint_id = local_user(runtime), settings(runtime).endpoint_id
    with runtime.db.write() as session:
        good = repository.create_conversation(
            session, user, endpoint_id=endpoint_id, model="fake-gpt", params={"seed": -(2**63), "stop": ["END"]}
        )
        bad = repository.create_conversation(
            session, user, endpoint_id=endpoint_id, model="fake-gpt", params={"logit_bias": {"abc": 5}}
        )
    for conversation in (good, bad):
        with runtime.db.read() as session:
            stored = ChatSettings.of(repository.get_conversation(session, user, conversation.id))
        finished(runtime, send_message(runtime, user, conversation.id, "hi", stored).assistant_message_id)
    assert (fake_openai.chat_bodies[0]["seed"], fake_openai.chat_bodies[0]["stop"]) == (-(2**63), ["END"])
    assert "logit_bias" not in fake_openai.chat_bodies[1], "a stored value that does not validate is never sent"


# --- tool calls ------------------------------------------------------------------------------------------------


def test_tool_call_round_trip(runtime, fake_openai):
    user = local_user(runtime)
    chat = settings(runtime, tools=[EXAMPLE_TOOLS["get_weather"], EXAMPLE_TOOLS["search"]], tool_choice="auto")
    fake_openai.enqueue(Reply(tool_calls=[WEATHER_CALL, SEARCH_CALL]))
    turn = send_message(runtime, user, None, "Weather and news in Oslo?", chat)
    calling = finished(runtime, turn.assistant_message_id)
    assert calling.tool_calls == [api_call(WEATHER_CALL), api_call(SEARCH_CALL)]
    assert (calling.status, calling.finish_reason) == ("complete", "tool_calls")

    with runtime.db.read() as session:
        messages_before = session.scalar(select(func.count()).select_from(Message))
    for missing in ({"call_weather": "21 °C"}, {"call_weather": "21 °C", "call_search": "  "}):
        with pytest.raises(ChatError) as refused:
            submit_tool_results(runtime, user, calling.id, missing, chat)
        assert refused.value.field == "tool_results" and "search" in str(refused.value)
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == messages_before, "nothing saved"
    assert len(fake_openai.chat_bodies) == 1, "nothing sent"

    fake_openai.enqueue(Reply(content="It is 21 °C; the news is quiet."))
    results = {"call_search": '["Quiet day"]', "call_weather": '{"temperature": 21}'}
    follow_up = submit_tool_results(runtime, user, calling.id, results, chat)
    assert finished(runtime, follow_up.assistant_message_id).content == "It is 21 °C; the news is quiet."

    body = fake_openai.chat_bodies[-1]
    assert body["messages"][-3:] == [
        {"role": "assistant", "content": None, "tool_calls": [api_call(WEATHER_CALL), api_call(SEARCH_CALL)]},
        {"role": "tool", "tool_call_id": "call_weather", "content": '{"temperature": 21}'},
        {"role": "tool", "tool_call_id": "call_search", "content": '["Quiet day"]'},
    ]
    assert body["tools"] == [EXAMPLE_TOOLS["get_weather"], EXAMPLE_TOOLS["search"]] and body["tool_choice"] == "auto"

    reloaded = saved_path(runtime, turn.conversation_id)
    assert [(m.role, m.content, m.tool_call_id) for m in reloaded] == [
        ("user", "Weather and news in Oslo?", None),
        ("assistant", "", None),
        ("tool", '{"temperature": 21}', "call_weather"),
        ("tool", '["Quiet day"]', "call_search"),
        ("assistant", "It is 21 °C; the news is quiet.", None),
    ]
    assert reloaded[1].tool_calls == [api_call(WEATHER_CALL), api_call(SEARCH_CALL)]


# --- View code is the real request -------------------------------------------------------------------------------


def test_preview_and_curl_equal_the_request_that_sending_makes(runtime, fake_openai):
    user = local_user(runtime)
    chat = settings(
        runtime, "Answer in JSON.", temperature=0.4, seed=-12, stop=["END"], logit_bias={"50256": -100},
        response_format="json_object", tools=[EXAMPLE_TOOLS["search"]], tool_choice="search",
        extra_body={"top_k": 40}, max_tokens=99,
    )
    fake_openai.enqueue(Reply(content='{"it": "works"}'))
    first = send_message(runtime, user, None, "Say hi, it's \"quoted\".", chat)
    finished(runtime, first.assistant_message_id)

    draft = "And now the ünïcode part?"
    preview = preview_request(runtime, user, first.conversation_id, draft, chat)
    second = send_message(runtime, user, first.conversation_id, draft, chat)
    finished(runtime, second.assistant_message_id)

    sent = fake_openai.chat_bodies[-1]
    assert preview.body == sent
    assert sent["messages"][-1] == {"role": "user", "content": draft} and sent["temperature"] == 0.4

    curl, python, javascript = as_curl(preview), as_python(preview), as_javascript(preview)
    words = shlex.split(curl)
    assert json.loads(words[words.index("-d") + 1]) == sent
    assert words[:3] == ["curl", "-N", fake_openai.base_url + "/chat/completions"]
    for snippet in (curl, python, javascript):
        assert API_KEY not in snippet
        assert f"Bearer {mask_key(API_KEY)}" in snippet


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the JavaScript snippet")
@pytest.mark.parametrize("seed", [7, 2**63 - 1, -(2**63)])
def test_the_javascript_snippet_sends_exactly_the_body(seed):
    body = {"model": "m", "messages": [{"role": "user", "content": 'é \u2028 `${x}` \\ "q"'}], "seed": seed}
    preview = RequestPreview.masked("http://127.0.0.1:9/v1/chat/completions", {}, body)
    capture = "globalThis.fetch = async (url, init) => { process.stdout.write(init.body); process.exit(0); };\n"
    node = subprocess.run(
        ["node", "--input-type=module", "-e", capture + as_javascript(preview)],
        capture_output=True, text=True, timeout=60,
    )
    assert json.loads(node.stdout) == body, node.stderr


# --- presets -----------------------------------------------------------------------------------------------------


def preset_names(runtime: Runtime) -> dict[str, bool]:
    return {preset.name: preset.builtin for preset in list_presets(runtime, local_user(runtime))}


def test_builtin_presets_exist(runtime):
    presets = {preset.name: preset for preset in list_presets(runtime, local_user(runtime))}
    assert {"Precise", "Balanced", "Creative", "JSON"} <= presets.keys()
    assert all(presets[name].builtin for name in ("Precise", "Balanced", "Creative", "JSON"))
    assert presets["JSON"].params.response_format == "json_object" and "JSON" in presets["JSON"].system_prompt


def test_user_presets_are_saved_overwritten_and_deleted(runtime):
    user = local_user(runtime)
    save_preset(runtime, user, " Terse ", "Be terse.", ChatParams(temperature=0.9, stop=("END",)))
    [terse] = [p for p in list_presets(runtime, user) if p.name == "Terse"]
    assert (terse.builtin, terse.system_prompt) == (False, "Be terse.")
    assert terse.params == ChatParams(temperature=0.9, stop=("END",))

    save_preset(runtime, user, "Terse", "", ChatParams(top_p=0.5))
    [terse] = [p for p in list_presets(runtime, user) if p.name == "Terse"]
    assert (terse.system_prompt, terse.params) == (None, ChatParams(top_p=0.5))

    precise = next(p for p in list_presets(runtime, user) if p.name == "Precise")
    delete_preset(runtime, user, precise.id)
    delete_preset(runtime, user, terse.id)
    assert preset_names(runtime) == {"Precise": True, "Balanced": True, "Creative": True, "JSON": True}


@pytest.mark.parametrize(("name", "reason"), [("Precise", "built-in"), ("JSON", "built-in"), ("   ", "name")])
def test_builtin_and_empty_names_are_refused(runtime, name, reason):
    user = local_user(runtime)
    with pytest.raises(PresetError, match=reason):  # before the built-ins were ever listed
        save_preset(runtime, user, name, "Mine!", ChatParams(temperature=2.0))
    with pytest.raises(PresetError, match=reason):
        save_preset(runtime, user, name, "Mine!", ChatParams(temperature=2.0))
    assert preset_names(runtime) == {"Precise": True, "Balanced": True, "Creative": True, "JSON": True}
    assert next(p for p in list_presets(runtime, user) if p.name == "Precise").params == ChatParams(temperature=0.2)


# --- the JSON badge ------------------------------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "array", "items": {"type": "integer"}}},
    "required": ["city"],
}


def test_fenced_json_parses_and_is_pretty_printed():
    verdict = check_json_reply('```json\n{"city": "Oslo", "days": [1, 2]}\n```')
    assert (verdict.parses, verdict.validates, verdict.problem) == (True, None, None)
    assert verdict.pretty == json.dumps({"city": "Oslo", "days": [1, 2]}, indent=2)


@pytest.mark.parametrize(
    ("text", "validates", "problem"),
    [
        ('{"city": "Oslo", "days": [1, 2]}', True, None),
        (
            '{"city": "Oslo", "days": [1, "two"]}',
            False, "Does not match the schema at days/1: 'two' is not of type 'integer'",
        ),
        ('{"days": []}', False, "Does not match the schema at (root): 'city' is a required property"),
    ],
)
def test_schema_violations_name_the_path(text, validates, problem):
    verdict = check_json_reply(text, SCHEMA)
    assert (verdict.parses, verdict.validates, verdict.problem) == (True, validates, problem)


def test_text_that_is_not_json_is_reported():
    verdict = check_json_reply("Sure! Here is the JSON: {", SCHEMA)
    assert (verdict.parses, verdict.validates, verdict.pretty) == (False, False, None)
    assert verdict.problem.startswith("Not valid JSON")


@pytest.mark.parametrize("action", ["edit", "retry"])
def test_a_vanished_endpoint_is_explained_and_nothing_is_saved(runtime, fake_openai, action):
    from services.chat import edit_and_resend, retry

    fake_openai.enqueue(Reply(content="First answer."))
    user = local_user(runtime)
    turn = send_message(runtime, user, None, "Question", settings(runtime))
    finished(runtime, turn.assistant_message_id)
    before = [(m.id, m.content) for m in saved_path(runtime, turn.conversation_id)]
    gone = ChatSettings(987_654, "fake-gpt", "", ChatParams())  # deleted in another tab

    with pytest.raises(ChatError, match="endpoint no longer exists"):
        if action == "edit":
            edit_and_resend(runtime, user, before[0][0], "Question, edited", gone)
        else:
            retry(runtime, user, turn.assistant_message_id, gone)

    assert [(m.id, m.content) for m in saved_path(runtime, turn.conversation_id)] == before


# --- continue after max_tokens -------------------------------------------------------------------------------------


def test_continue_extends_the_cut_reply_instead_of_adding_a_turn(runtime, fake_openai):
    user = local_user(runtime)
    fake_openai.enqueue(Reply(content="Once upon a", reasoning="A story.", finish_reason="length"),
                        Reply(content=[" time,", " the end."]))
    turn = send_message(runtime, user, None, "Tell me a story", settings(runtime, max_tokens=3))
    cut = finished(runtime, turn.assistant_message_id)
    assert cut.finish_reason == "length"

    again = continue_reply(runtime, user, cut.id, settings(runtime, max_tokens=3))
    assert (again.conversation_id, again.assistant_message_id) == (turn.conversation_id, cut.id)
    reply = finished(runtime, cut.id)

    assert (reply.content, reply.reasoning, reply.status, reply.finish_reason) == (
        "Once upon a time, the end.", "A story.", "complete", "stop")
    assert [(m.role, m.content) for m in saved_path(runtime, turn.conversation_id)] == [
        ("user", "Tell me a story"), ("assistant", "Once upon a time, the end.")], "no visible instruction turn"
    assert fake_openai.chat_bodies[-1]["messages"] == [  # the fake validated the body against OpenAI's schema
        {"role": "user", "content": "Tell me a story"},
        {"role": "assistant", "content": "Once upon a"},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]


def test_continue_of_another_users_reply_is_refused(runtime, fake_openai):
    owner = local_user(runtime)
    with runtime.db.write() as session:
        other = repository.ensure_user(session, "someone-else", is_admin=False)
    fake_openai.enqueue(Reply(content="Once upon a", finish_reason="length"))
    turn = send_message(runtime, owner, None, "Tell me a story", settings(runtime))
    finished(runtime, turn.assistant_message_id)
    with pytest.raises(ChatError, match="no longer exists"):
        continue_reply(runtime, other, turn.assistant_message_id, settings(runtime))
    assert finished(runtime, turn.assistant_message_id).content == "Once upon a"


def test_continue_clicked_twice_starts_one_request(runtime, fake_openai):
    user = local_user(runtime)
    fake_openai.enqueue(Reply(content="Once upon a", finish_reason="length"),
                        Reply(content=[" time,", " there", " was"], delay=0.3))
    turn = send_message(runtime, user, None, "Tell me a story", settings(runtime, max_tokens=3))
    cut = finished(runtime, turn.assistant_message_id)
    continue_reply(runtime, user, cut.id, settings(runtime))
    with pytest.raises(ChatError, match="already being continued"):
        continue_reply(runtime, user, cut.id, settings(runtime))  # the button is still on the page: a double click
    assert finished(runtime, cut.id).content == "Once upon a time, there was"
    assert len(fake_openai.chat_bodies) == 2
