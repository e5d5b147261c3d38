"""The parameter playground as a user drives it through AppTest: the sidebar, the n > 1 tabs, tool calls, presets,
View code, Details and Continue, against the fake endpoint."""

from __future__ import annotations

import ast
import json
import shlex

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1.element_tree import Error

from db.models import Message
from services.chat import CONTINUE_PROMPT
from services.params import EXAMPLE_TOOLS
from tests.fake_openai import Reply
from tests.pages.conftest import TEST_KEY
from tests.pages.test_chat_page import runtime_db, send, texts
from ui.code_panel import NEXT_MESSAGE

WEATHER_CALL = {"id": "call_weather", "name": "get_weather", "arguments": '{"city":"Oslo","unit":"celsius"}'}


def param(name: str) -> str:
    return f"setting_param_{name}"


def error_next_to(at, key: str) -> str | None:
    """The error shown right below the sidebar widget `key`, if any."""
    for expander in at.sidebar.expander:
        children = list(expander.children.values())
        for i, child in enumerate(children):
            if getattr(child, "key", None) == key:
                following = children[i + 1] if i + 1 < len(children) else None
                return following.value if isinstance(following, Error) else None
    raise AssertionError(f"no sidebar widget {key}")


def message_count() -> int:
    with runtime_db().read() as session:
        return session.scalar(select(func.count()).select_from(Message))


def typed_message(at) -> str:
    """The text the page put back into the chat input (what the browser shows in it)."""
    return at.chat_input[0].proto.value


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("logit_bias", '{"abc": 5}', "key 'abc' is not a token id (a whole number)."),
        ("stop", "one\ntwo\nthree\nfour\nfive", "at most 4 sequences are allowed (got 5)."),
        ("tools", '[{"type": "function"', "is not valid JSON (line 1, column 21: Expecting ',' delimiter)."),
    ],
)
def test_an_invalid_value_is_explained_next_to_its_field_and_not_sent(configured, open_app, field, value, reason):
    at = send(open_app(), "First question")
    before = (message_count(), texts(at))
    assert error_next_to(at, param(field)) is None

    at.text_area(key=param(field)).set_value(value).run()
    assert error_next_to(at, param(field)) == f"{field}: {reason}"
    send(at, "Will this be sent?")

    assert len(configured.chat_bodies) == 1, "nothing reaches the endpoint"
    assert (message_count(), texts(at)) == before, "the conversation is unchanged"
    assert any("not valid" in error.value for error in at.main.error)
    assert typed_message(at) == "Will this be sent?"
    assert error_next_to(at, param(field)) == f"{field}: {reason}"


def test_several_parameters_are_sent_exactly(configured, open_app):
    at = open_app()
    at.number_input(key=param("temperature")).set_value(0.5)
    at.number_input(key=param("n")).set_value(1)
    at.number_input(key=param("seed")).set_value(-42)
    at.number_input(key=param("max_tokens")).set_value(128)
    at.number_input(key=param("presence_penalty")).set_value(0.3)
    at.text_area(key=param("stop")).set_value("END\n\\n\\n")
    at.text_area(key=param("logit_bias")).set_value('{"50256": -100}')
    at.text_input(key=param("user")).set_value("tester-7")
    at.selectbox(key=param("response_format")).set_value("json_object")
    at.toggle(key=param("include_usage")).set_value(False)
    at.text_area(key=param("extra_body")).set_value('{"top_k": 40}')
    at.text_area(key="setting_system_prompt").set_value("Answer in JSON.")
    at.run()
    assert not at.sidebar.error
    send(at, "Go")

    assert configured.chat_bodies == [{
        "model": "fake-gpt",
        "messages": [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Go"}],
        "temperature": 0.5, "n": 1, "seed": -42, "max_tokens": 128, "presence_penalty": 0.3, "stop": ["END", "\n\n"],
        "logit_bias": {"50256": -100}, "user": "tester-7", "response_format": {"type": "json_object"},
        "top_k": 40, "stream": True,
    }]


def test_n2_shows_each_choice_in_a_tab_and_the_user_picks_one(configured, open_app):
    configured.enqueue(Reply(contents=["Tea is calming.", "Coffee is bold."]))
    at = open_app()
    at.number_input(key=param("n")).set_value(2).run()
    send(at, "Tea or coffee?")

    assert [tab.label for tab in at.tabs] == ["★ Choice 1", "Choice 2"]
    assert [" ".join(md.value for md in tab.markdown) for tab in at.tabs] == ["Tea is calming.", "Coffee is bold."]
    at.button(key="choose_2_1").click().run()

    assert [tab.label for tab in at.tabs] == ["Choice 1", "★ Choice 2"]
    at.number_input(key=param("n")).set_value(None).run()
    send(at, "Why?")
    assert configured.chat_bodies[-1]["messages"][1] == {"role": "assistant", "content": "Coffee is bold."}


def test_a_tool_call_is_shown_answered_and_followed_up(configured, open_app):
    configured.enqueue(Reply(tool_calls=[WEATHER_CALL]), Reply(content="It is 21 °C in Oslo."))
    at = open_app()
    at.button(key="insert_tool_get_weather").click().run()
    assert json.loads(at.text_area(key=param("tools")).value) == [EXAMPLE_TOOLS["get_weather"]]
    at.selectbox(key=param("tool_choice")).set_value("get_weather").run()
    send(at, "Weather in Oslo?")

    assert configured.chat_bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    pretty = json.dumps({"city": "Oslo", "unit": "celsius"}, indent=2)
    assert pretty in [code.value for code in at.chat_message[1].code]
    assert any("get_weather" in md.value and "call_weather" in md.value for md in at.chat_message[1].markdown)

    at.text_area(key="tool_result_2_call_weather").set_value('{"temperature": 21}')
    at.button(key="FormSubmitter:tool_results_2-Send results").click().run()

    assert configured.chat_bodies[-1]["messages"][-2:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_weather", "type": "function",
             "function": {"name": "get_weather", "arguments": WEATHER_CALL["arguments"]}},
        ]},
        {"role": "tool", "tool_call_id": "call_weather", "content": '{"temperature": 21}'},
    ]
    assert texts(at)[-1] == "It is 21 °C in Oslo."


def test_applying_the_json_preset_fills_the_sidebar(configured, open_app):
    at = open_app()
    at.number_input(key=param("top_p")).set_value(0.5).run()
    at.selectbox(key="preset_pick").set_value("JSON").run()

    assert at.selectbox(key=param("response_format")).value == "json_object"
    assert at.number_input(key=param("temperature")).value == 0.2
    assert at.number_input(key=param("top_p")).value is None, "a preset replaces the parameters"
    assert at.text_area(key="setting_system_prompt").value == "Answer with a single JSON object and nothing else."
    send(at, "Hi")
    assert configured.chat_bodies[-1]["response_format"] == {"type": "json_object"}


def test_a_saved_preset_is_listed_and_a_builtin_name_is_refused(configured, open_app):
    at = open_app()
    at.number_input(key=param("temperature")).set_value(1.1).run()
    at.text_input(key="preset_name").set_value("Loose")
    at.button(key="save_preset").click().run()
    assert [success.value for success in at.sidebar.success] == ["Saved “Loose”."]
    assert "Loose" in at.selectbox(key="preset_pick").options

    at.selectbox(key="preset_pick").set_value("Precise").run()
    assert at.number_input(key=param("temperature")).value == 0.2
    at.selectbox(key="preset_pick").set_value("Loose").run()
    assert at.number_input(key=param("temperature")).value == 1.1

    at.text_input(key="preset_name").set_value("Creative")
    at.button(key="save_preset").click().run()
    assert [error.value for error in at.sidebar.error] == ["“Creative” is a built-in preset: choose another name."]


def test_a_user_preset_can_be_deleted_but_not_a_builtin(configured, open_app):
    at = open_app()
    at.text_input(key="preset_name").set_value("Mine")
    at.button(key="save_preset").click().run()
    assert "Mine" in at.selectbox(key="preset_pick").options
    assert [p for p in at.selectbox(key="preset_delete_pick").options] == ["Mine"], "built-ins are not offered"

    at.selectbox(key="preset_delete_pick").select_index(0).run()
    at.button(key="delete_preset").click().run()
    assert not at.exception
    assert "Mine" not in at.selectbox(key="preset_pick").options
    assert "Creative" in at.selectbox(key="preset_pick").options


def code_bodies(at) -> dict[str, dict]:
    """The request body of each View code snippet, read back the way a user's shell, Python or browser would."""
    snippets = {code.language: code.value for code in at.code if code.language in ("bash", "python", "javascript")}
    words = shlex.split(snippets["bash"])
    python = snippets["python"].split("body = ", 1)[1].split("\n\n", 1)[0]
    javascript = snippets["javascript"].split("JSON.stringify(", 1)[1].split("),\n});", 1)[0]
    for snippet in snippets.values():
        assert TEST_KEY not in snippet and "Bearer sk-…9876" in snippet
    return {
        "curl": json.loads(words[words.index("-d") + 1]),
        "python": ast.literal_eval(python),
        "javascript": json.loads(javascript),
    }


def test_view_code_shows_the_request_that_sending_makes(configured, open_app):
    at = send(open_app(), "First question")
    at.number_input(key=param("temperature")).set_value(0.3)
    at.text_area(key=param("stop")).set_value("END")
    at.run()
    at.button(key="view_code").click().run()
    shown = code_bodies(at)

    send(at, NEXT_MESSAGE)
    sent = configured.chat_bodies[-1]
    assert sent["temperature"] == 0.3 and sent["stop"] == ["END"] and len(sent["messages"]) == 3
    assert shown == {"curl": sent, "python": sent, "javascript": sent}


def test_details_show_the_request_and_the_usage(configured, open_app):
    usage = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
    configured.enqueue(Reply(content="Short answer here.", usage=usage, response_headers={"x-request-id": "req-42"}))
    at = open_app()
    at.number_input(key=param("max_tokens")).set_value(50).run()
    send(at, "Hi")
    at.button(key="tools_2").click().run()  # Details live in the message tools (the ⋯ button)
    at.button(key="details_2").click().run()

    details = json.loads(at.chat_message[1].json[0].value)
    sent = configured.chat_bodies[0]
    assert details["request"] == sent  # the messages too, as sent
    assert details["response"]["headers"]["x-request-id"] == "req-42"
    assert any("usage 5 prompt + 4 completion = 9" in caption.value for caption in at.chat_message[1].caption)


def test_a_reply_cut_by_max_tokens_offers_continue(configured, open_app):
    configured.enqueue(Reply(content="Once upon a", finish_reason="length"), Reply(content=[" time,", " the end."]))
    at = open_app()
    at.number_input(key=param("max_tokens")).set_value(3).run()
    send(at, "Tell me a story")
    assert any("cut by max_tokens" in info.value for info in at.chat_message[1].info)

    at.button(key="continue_2").click().run()
    assert configured.chat_bodies[-1]["messages"] == [
        {"role": "user", "content": "Tell me a story"},
        {"role": "assistant", "content": "Once upon a"},
        {"role": "user", "content": CONTINUE_PROMPT},  # sent, not shown: the reply goes on in its own bubble
    ]
    assert [message.name for message in at.chat_message] == ["user", "assistant"]
    assert texts(at)[1] == "Once upon a time, the end."
