"""The chat page as a user drives it, through Streamlit's AppTest, against the fake endpoint."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Conversation, Message
from tests.fake_openai import Reply
from tests.pages.conftest import TEST_KEY


def runtime_db():
    from ui.resources import runtime

    return runtime().db


def texts(at) -> list[str]:
    return [" ".join(md.value for md in message.markdown) for message in at.chat_message]


def send(at, text: str):
    at.chat_input[0].set_value(text).run()
    return at


def test_send_message_streams_reply_and_saves_it(configured, open_app):
    configured.enqueue(Reply(content="Hello from the fake endpoint.", response_headers={"x-request-id": "req-1"}))
    at = send(open_app(), "Hi there")

    assert not at.exception
    assert texts(at)[:2] == ["Hi there", "Hello from the fake endpoint."]
    assert at.query_params["c"] == ["1"] or at.query_params["c"] == "1"
    with runtime_db().read() as session:
        user_message, reply = session.scalars(select(Message).order_by(Message.id)).all()
    assert (user_message.role, user_message.content) == ("user", "Hi there")
    assert (reply.status, reply.content, reply.parent_id) == ("complete", "Hello from the fake endpoint.", user_message.id)
    assert reply.response_meta["headers"]["x-request-id"] == "req-1"
    body = configured.chat_bodies[0]
    assert body["messages"] == [{"role": "user", "content": "Hi there"}]
    # Nothing the user did not set is sent.
    assert set(body) == {"model", "messages", "stream", "stream_options"}


def test_parameters_are_sent_saved_and_restored(configured, open_app):
    at = open_app()
    at.number_input(key="setting_param_temperature").set_value(0.7)
    at.number_input(key="setting_param_max_tokens").set_value(64)
    at.text_area(key="setting_system_prompt").set_value("Be brief.")
    at.run()
    send(at, "Tell me a joke")
    body = configured.chat_bodies[-1]
    assert body["temperature"] == 0.7 and body["max_tokens"] == 64 and "top_p" not in body
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}

    # A new chat starts from the defaults; what is sent there does not touch the first conversation.
    at.button(key="new_chat").click().run()
    at.number_input(key="setting_param_temperature").set_value(None).run()
    send(at, "Second chat")
    assert "temperature" not in configured.chat_bodies[-1]

    reopened = open_app(c="1")
    assert reopened.number_input(key="setting_param_temperature").value == 0.7
    assert reopened.number_input(key="setting_param_max_tokens").value == 64
    assert reopened.text_area(key="setting_system_prompt").value == "Be brief."
    assert texts(reopened)[0] == "Tell me a joke"


def test_endpoint_error_shows_plain_message_and_keeps_the_users_text(configured, open_app):
    configured.api_key = "sk-some-other-key"
    at = send(open_app(), "Are you there?")

    assert not at.exception
    assert texts(at)[0] == "Are you there?"
    errors = [error.value for error in at.error]
    assert any("API key" in error and "401" in error for error in errors), errors
    assert any("Incorrect API key" in error for error in errors), "the endpoint's own words are shown"
    assert at.button(key="retry_2") is not None

    configured.api_key = TEST_KEY
    configured.enqueue(Reply(content="Now it works."))
    at.button(key="retry_2").click().run()
    assert "Now it works." in texts(at)
    with runtime_db().read() as session:
        statuses = session.scalars(select(Message.status).where(Message.role == "assistant").order_by(Message.id)).all()
    assert statuses == ["error", "complete"], "the failed reply is kept beside the retried one"


def test_server_error_mid_stream_keeps_partial_answer(configured, open_app):
    configured.enqueue(Reply(content="one two three four five six", error_after=3))
    at = send(open_app(), "Count")
    assert "one two three" in texts(at)[1]
    assert any("overloaded" in error.value for error in at.error)


def test_unset_model_refuses_to_send_and_keeps_the_message(configured, open_app, monkeypatch):
    configured.models = []
    monkeypatch.delenv("OPENAI_MODEL")
    at = open_app()
    at.selectbox(key="setting_model").set_value(None).run()
    send(at, "Will this go?")

    assert not configured.chat_bodies, "nothing is sent without a model"
    assert any("model" in error.value.lower() for error in at.error)
    assert at.chat_input[0].proto.value == "Will this go?"
    with runtime_db().read() as session:
        assert session.scalar(select(Conversation)) is None


def test_unknown_conversation_link_says_not_found(configured, open_app):
    at = open_app(c="999")
    assert not at.exception
    assert any("not found" in warning.value.lower() for warning in at.warning)


def test_first_run_form_saves_an_endpoint_and_opens_the_chat(app_env, fake_openai, open_app):
    fake_openai.api_key = "sk-first-run-key-1234"
    at = open_app()
    assert "Welcome to RelayChat" in [sub.value for sub in at.subheader]

    at.text_input(key="ep_base_new").set_value(fake_openai.base_url.removesuffix("/v1"))
    at.text_input(key="ep_key_new").set_value("sk-first-run-key-1234")
    at.button(key="FormSubmitter:endpoint_form_new-Test connection").click().run()
    assert any("fake-gpt" in success.value for success in at.success), [e.value for e in at.error]

    at.button(key="FormSubmitter:endpoint_form_new-Save endpoint").click().run()
    assert not at.exception
    assert len(at.chat_input) == 1, "after saving, the chat opens"
    send(at, "First message")
    assert texts(at)[1] == "You said: First message"


def test_first_run_form_explains_a_bad_base_url(app_env, open_app):
    at = open_app()
    at.text_input(key="ep_base_new").set_value("ftp://example.com")
    at.button(key="FormSubmitter:endpoint_form_new-Save endpoint").click().run()
    assert any("http://" in error.value for error in at.error)
    assert "Welcome to RelayChat" in [sub.value for sub in at.subheader]


def test_an_unusable_data_folder_is_named_on_the_page(app_env, open_app, monkeypatch, tmp_path):
    (tmp_path / "blocker").write_text("a file where the data folder should be")
    monkeypatch.setenv("RELAYCHAT_DATA_DIR", str(tmp_path / "blocker" / "data"))
    at = open_app()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and "RELAYCHAT_DATA_DIR" in errors[0] and str(tmp_path / "blocker" / "data") in errors[0], errors
    assert "Set RELAYCHAT_DATA_DIR to a folder" in errors[0]

    monkeypatch.setenv("RELAYCHAT_DATA_DIR", str(tmp_path / "data"))  # fixed: a reload starts normally
    at = open_app()
    assert not at.exception and not at.error
