"""The chat settings as a user keeps them: across pages, new chats and refusals (AppTest, against the fake endpoint)."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Conversation
from tests.pages.test_chat_page import runtime_db, send


def param(name: str) -> str:
    return f"setting_param_{name}"


def saved_settings() -> tuple[str | None, dict]:
    with runtime_db().read() as session:
        conversation = session.scalars(select(Conversation)).one()
        return conversation.system_prompt, conversation.params


def test_settings_survive_a_round_trip_through_the_other_pages(configured, open_app):
    at = open_app()
    at.text_area(key="setting_system_prompt").set_value("Answer like a pirate.")
    at.number_input(key=param("temperature")).set_value(0.4)
    at.run()
    send(at, "Ahoy")
    assert saved_settings() == ("Answer like a pirate.", {"temperature": 0.4, "stream": True, "include_usage": True})

    at.switch_page("pages/endpoints.py").run()
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/chat.py").run()
    assert not at.exception

    assert at.text_area(key="setting_system_prompt").value == "Answer like a pirate."
    assert at.number_input(key=param("temperature")).value == 0.4
    assert saved_settings() == ("Answer like a pirate.", {"temperature": 0.4, "stream": True, "include_usage": True})
    send(at, "Again")
    body = configured.chat_bodies[-1]
    assert body["temperature"] == 0.4 and body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}


def test_a_new_chat_starts_from_the_defaults_not_the_previous_conversation(configured, open_app):
    at = open_app()
    at.text_area(key="setting_system_prompt").set_value("Only answer in French.")
    at.number_input(key=param("max_tokens")).set_value(50)
    at.run()
    send(at, "Bonjour")

    at.button(key="new_chat").click().run()
    prompt = at.text_area(key="setting_system_prompt")
    assert prompt.value == "" and prompt.placeholder.startswith("None set"), "an empty prompt reads as empty"
    assert at.number_input(key=param("max_tokens")).value is None
    assert any("started from your defaults" in caption.value for caption in at.main.caption)
    send(at, "Hello")
    assert configured.chat_bodies[-1]["messages"] == [{"role": "user", "content": "Hello"}]
    assert "max_tokens" not in configured.chat_bodies[-1]


def test_a_new_chat_starts_from_the_preset_the_user_picked(configured, open_app):
    at = open_app()
    at.selectbox(key="preset_pick").set_value("JSON").run()
    at.number_input(key=param("max_tokens")).set_value(50).run()
    send(at, "First")

    at.button(key="new_chat").click().run()
    assert at.number_input(key=param("temperature")).value == 0.2
    assert at.number_input(key=param("max_tokens")).value is None
    assert at.text_area(key="setting_system_prompt").value == "Answer with a single JSON object and nothing else."
    assert any("started from the preset “JSON”" in caption.value for caption in at.main.caption)


def test_what_was_typed_in_a_new_chat_comes_back_after_a_reload(configured, open_app):
    at = open_app()
    at.text_area(key="setting_system_prompt").set_value("Answer like a pirate.")
    at.number_input(key=param("temperature")).set_value(0.4)
    at.text_area(key=param("tools")).set_value('[{"type": "function"')  # half typed: not valid yet
    at.run()

    reloaded = open_app()  # a new browser session, as after "Something went wrong" and a reload
    assert reloaded.text_area(key="setting_system_prompt").value == "Answer like a pirate."
    assert reloaded.number_input(key=param("temperature")).value == 0.4
    assert reloaded.text_area(key=param("tools")).value == '[{"type": "function"'


def test_a_reload_of_a_conversation_keeps_an_unsaved_invalid_edit(configured, open_app):
    at = send(open_app(), "Hi")
    at.text_area(key=param("logit_bias")).set_value('{"50256": -1')  # invalid: not saved with the conversation
    at.run()

    reloaded = open_app(c=at.query_params["c"][0] if isinstance(at.query_params["c"], list) else at.query_params["c"])
    assert reloaded.text_area(key=param("logit_bias")).value == '{"50256": -1'


def test_a_fresh_visit_after_a_new_chat_was_sent_starts_from_the_defaults(configured, open_app):
    at = open_app()
    at.text_area(key="setting_system_prompt").set_value("Answer like a pirate.")
    at.number_input(key="setting_param_max_tokens").set_value(50)
    at.run()
    send(at, "Ahoy")  # the new chat becomes conversation 1, with these settings
    fresh = open_app()  # a reload of "/", a bookmark, a second tab: a new chat
    assert fresh.text_area(key="setting_system_prompt").value == ""
    assert fresh.number_input(key="setting_param_max_tokens").value is None
