"""History in the chat page and the import page, as a user drives them through AppTest: the sidebar list, search,
the ⋯ menu, deep links, branches (regenerate, edit, fork, delete) and import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from db import repository
from db.models import Conversation, Message
from tests.fake_openai import Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


# --- helpers -----------------------------------------------------------------------------------------------


def runtime_and_user():
    from ui.resources import runtime

    rt = runtime()
    with rt.db.read() as session:
        return rt, repository.get_user(session)


def seed(titles: list[str], content: str = "Some question") -> list[int]:
    """Conversations created in order (the last is the newest), each with one question and its answer."""
    rt, user = runtime_and_user()
    ids = []
    for title in titles:
        with rt.db.write() as session:
            conversation = repository.create_conversation(session, user, endpoint_id=None, model="fake-gpt")
            question = repository.add_message(session, conversation, role="user", content=content, parent_id=None)
            repository.add_message(session, conversation, role="assistant", content="An answer", parent_id=question.id)
            conversation.title = title
            ids.append(conversation.id)
    return ids


def listed(at) -> list[str]:
    """The sidebar's conversation buttons, top to bottom."""
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("open_")]


def texts(at) -> list[str]:
    return [" ".join(md.value for md in message.markdown) for message in at.chat_message]


def send(at, text: str):
    at.chat_input[0].set_value(text).run()
    assert not at.exception
    return at


def open_id(at) -> str | None:
    value = at.query_params.get("c")
    return value[0] if isinstance(value, list) else value


def messages(conversation_id: int | str) -> list[Message]:
    rt, _ = runtime_and_user()
    with rt.db.read() as session:
        return list(
            session.scalars(select(Message).where(Message.conversation_id == int(conversation_id)).order_by(Message.id))
        )


def open_tools(at, message_id: int):
    at.button(key=f"tools_{message_id}").click().run()
    return at


# --- the list ------------------------------------------------------------------------------------------------


def test_list_is_newest_first_with_pinned_on_top_and_show_more_loads_the_next_page(configured, open_app):
    open_app()
    titles = [f"Topic {n:02d}" for n in range(35)]
    ids = seed(titles)
    rt, user = runtime_and_user()
    with rt.db.write() as session:
        repository.set_pinned(session, user, ids[3], True)

    at = open_app()
    shown = listed(at)
    assert len(shown) == 30, "one page, not everything"
    assert shown[0] == "Topic 03", "the pinned one is on top"
    assert shown[1:] == [f"Topic {n:02d}" for n in range(34, 5, -1) if n != 3]
    assert at.sidebar.button(key=f"open_{ids[3]}").proto.icon == ":material/push_pin:"

    at.button(key="more_conversations").click().run()
    shown = listed(at)
    assert shown == ["Topic 03"] + [f"Topic {n:02d}" for n in range(34, -1, -1) if n != 3]
    assert not [b for b in at.sidebar.button if b.key == "more_conversations"], "nothing more to load"


def test_search_highlights_matches_and_opens_the_hit(configured, open_app):
    open_app()
    (bread,) = seed(["Kitchen notes"], "How often should I feed my sourdough starter?")
    seed(["Boats"], "Kayak routes")
    at = open_app()

    at.text_input(key="history_query").set_value("sourdough").run()
    assert at.button(key="hit_0").label == "Kitchen notes"
    assert not [b for b in at.sidebar.button if b.key == "hit_1"], "the other conversation does not match"
    assert "How often should I feed my **sourdough** starter?" in [c.value for c in at.sidebar.caption]

    at.button(key="hit_0").click().run()
    assert not at.exception
    assert open_id(at) == str(bread)
    assert at.subheader[0].value == "Kitchen notes"
    assert texts(at) == ["How often should I feed my sourdough starter?", "An answer"]

    at.text_input(key="history_query").set_value("nothingmatchesthis").run()
    assert "No conversation matches." in [c.value for c in at.sidebar.caption]


# --- the ⋯ menu ----------------------------------------------------------------------------------------------


def test_rename_and_pin_from_the_menu(configured, open_app):
    open_app()
    first, second = seed(["Old title", "Newer one"])
    at = open_app(c=str(first))
    assert listed(at) == ["Newer one", "Old title"]

    at.text_input(key=f"title_{first}").set_value("   ")
    at.button(key="rename").click().run()
    assert not at.exception
    assert "A title cannot be empty." in [e.value for e in at.error]
    assert at.subheader[0].value == "Old title"

    at.text_input(key=f"title_{first}").set_value("Trip to Lisbon")
    at.button(key="rename").click().run()
    assert at.subheader[0].value == "Trip to Lisbon"
    assert listed(at) == ["Newer one", "Trip to Lisbon"]

    at.button(key="pin").click().run()
    assert listed(at) == ["Trip to Lisbon", "Newer one"], "pinned goes on top"
    assert at.button(key="pin").label == "Unpin"

    reopened = open_app(c=str(second))
    assert listed(reopened) == ["Trip to Lisbon", "Newer one"], "kept in the database, not only in the session"


def test_delete_needs_confirmation_and_undo_brings_it_back(configured, open_app):
    open_app()
    keep, doomed = seed(["Keep me", "Delete me"])
    at = open_app(c=str(doomed))

    assert at.button(key="delete_conversation").disabled, "no delete without the confirmation"
    at.checkbox(key=f"confirm_delete_{doomed}").check().run()
    at.button(key="delete_conversation").click().run()
    assert not at.exception
    assert listed(at) == ["Keep me"]
    assert open_id(at) is None and at.subheader[0].value == "New chat"
    assert "Deleted “Delete me”." in [c.value for c in at.sidebar.caption]

    at.button(key="undo_delete").click().run()
    assert listed(at) == ["Delete me", "Keep me"]
    assert open_id(at) == str(doomed)
    assert texts(at) == ["Some question", "An answer"]
    assert not [b for b in at.sidebar.button if b.key == "undo_delete"]


def test_link_to_a_deleted_or_unknown_conversation_says_not_found(configured, open_app):
    open_app()
    (doomed,) = seed(["Gone soon"])
    rt, user = runtime_and_user()
    with rt.db.write() as session:
        repository.soft_delete_conversation(session, user, doomed)

    for link in (str(doomed), "424242"):
        at = open_app(c=link)
        assert not at.exception
        assert any("Conversation not found" in w.value for w in at.warning), link
        assert at.subheader[0].value == "New chat"
        assert not at.chat_message, "nothing of the deleted conversation is shown"


# --- branches ------------------------------------------------------------------------------------------------


def test_regenerate_makes_a_sibling_and_the_arrows_switch_between_answers(configured, open_app):
    configured.enqueue(Reply(content="Blue, like the sea."), Reply(content="Green, like a forest."))
    at = send(open_app(), "Pick a colour")
    question, first = messages(open_id(at))

    open_tools(at, first.id)
    at.button(key=f"regenerate_{first.id}").click().run()
    assert not at.exception
    assert texts(at) == ["Pick a colour", "Green, like a forest."]
    second = messages(open_id(at))[-1]
    assert second.parent_id == question.id
    assert "2/2" in [c.value for c in at.caption]
    assert at.button(key=f"next_{second.id}").disabled

    at.button(key=f"prev_{second.id}").click().run()
    assert texts(at) == ["Pick a colour", "Blue, like the sea."]
    assert "1/2" in [c.value for c in at.caption]

    # The choice is the conversation's: a fresh session shows the same branch.
    assert texts(open_app(c=open_id(at))) == ["Pick a colour", "Blue, like the sea."]


def test_edit_and_resend_makes_a_new_branch_and_sends_the_edited_text(configured, open_app):
    at = send(open_app(), "Capital of France?")
    original = messages(open_id(at))[0]

    open_tools(at, original.id)
    at.text_area(key=f"edit_text_{original.id}").set_value("Capital of Italy?")
    at.button(key=f"edit_{original.id}").click().run()
    assert not at.exception

    assert texts(at) == ["Capital of Italy?", "You said: Capital of Italy?"]
    edited = next(m for m in messages(open_id(at)) if m.content == "Capital of Italy?")
    assert edited.parent_id is None and edited.id != original.id
    assert "2/2" in [c.value for c in at.caption]
    assert at.button(key=f"prev_{edited.id}") is not None, "the arrows are on the user message"
    assert configured.chat_bodies[-1]["messages"] == [{"role": "user", "content": "Capital of Italy?"}]

    at.button(key=f"prev_{edited.id}").click().run()
    assert texts(at) == ["Capital of France?", "You said: Capital of France?"], "the original branch is kept"


def test_fork_opens_a_new_conversation_with_the_path_up_to_the_message(configured, open_app):
    at = send(open_app(), "First question")
    send(at, "Second question")
    source = open_id(at)
    first_question, first_answer, *_ = messages(source)

    open_tools(at, first_answer.id)
    at.button(key=f"fork_{first_answer.id}").click().run()
    assert not at.exception

    assert open_id(at) != source
    assert at.subheader[0].value == "First question (fork)"
    assert texts(at) == ["First question", "You said: First question"]
    assert [m.content for m in messages(source)] == [
        "First question", "You said: First question", "Second question", "You said: Second question",
    ], "the original is untouched"


def test_delete_message_removes_it_and_its_replies(configured, open_app):
    at = send(open_app(), "Keep this")
    send(at, "Drop this")
    conversation = open_id(at)
    doomed = messages(conversation)[2]

    open_tools(at, doomed.id)
    assert at.button(key=f"delete_message_{doomed.id}").disabled, "no delete without the confirmation"
    at.checkbox(key=f"confirm_delete_message_{doomed.id}").check().run()
    at.button(key=f"delete_message_{doomed.id}").click().run()
    assert not at.exception

    assert texts(at) == ["Keep this", "You said: Keep this"]
    assert [m.content for m in messages(conversation)] == ["Keep this", "You said: Keep this"]


# --- import ------------------------------------------------------------------------------------------------


def open_import_page(open_app):
    at = open_app()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def upload(at, name: str, data: bytes):
    at.file_uploader(key="import_file").set_value((name, data, "application/json")).run()
    at.button(key="do_import").click().run()
    assert not at.exception
    return at


def conversation_count() -> int:
    rt, _ = runtime_and_user()
    with rt.db.read() as session:
        return len(session.scalars(select(Conversation.id)).all())


def test_relaychat_export_imported_gives_an_equal_conversation(configured, open_app):
    from services import conversations

    configured.enqueue(Reply(content="Blue."), Reply(content="Green."))
    at = send(open_app(), "Pick a colour")
    answer = messages(open_id(at))[-1]
    open_tools(at, answer.id)
    at.button(key=f"regenerate_{answer.id}").click().run()  # a branch, so the tree is exported, not a line
    rt, user = runtime_and_user()
    exported = conversations.export_json(rt, user, int(open_id(at)))

    page = upload(open_import_page(open_app), "colour.json", exported.encode())
    assert any("Imported 1 conversation(s) with 3 message(s)" in s.value for s in page.success)
    imported = int(open_id(page))
    assert imported != answer.conversation_id

    def same(document: str) -> dict:
        return {k: v for k, v in json.loads(document).items() if k != "exported_at"}

    assert same(conversations.export_json(rt, user, imported)) == same(exported)


def test_a_bad_file_imports_nothing_and_says_why(configured, open_app):
    at = open_import_page(open_app)
    before = conversation_count()
    document = json.loads((FIXTURES / "relaychat_conversation.json").read_text())
    document["conversation"]["messages"][1]["parent"] = 99

    upload(at, "broken.json", json.dumps(document).encode())
    errors = [e.value for e in at.error]
    assert errors and errors[0].startswith("Nothing was imported."), errors
    assert '"parent" 99 is not the id of an earlier message' in errors[0]
    assert conversation_count() == before

    upload(at, "notjson.json", b"{not json")
    assert any("Nothing was imported." in e.value and "not valid JSON" in e.value for e in at.error)
    assert conversation_count() == before


def test_chatgpt_export_imports_with_its_branches(configured, open_app):
    at = upload(open_import_page(open_app), "conversations.json", (FIXTURES / "chatgpt_conversations.json").read_bytes())
    assert any("Imported 2 conversation(s)" in s.value for s in at.success), [s.value for s in at.success]

    rt, user = runtime_and_user()
    with rt.db.read() as session:
        sourdough = session.scalar(select(Conversation).where(Conversation.title == "Sourdough starter help"))
        visible = [m.content for m in repository.message_path(session, sourdough)]
    tree = messages(sourdough.id)
    by_content = {m.content: m for m in tree}
    edited = by_content["What flour works best for a rye starter?"]
    first = by_content["What flour should I use?"]
    assert edited.parent_id == first.parent_id == by_content[visible[1]].id, "the edited question is a sibling"
    assert visible == [
        "How often should I feed my sourdough starter?",
        "Once a day at room temperature; once a week if it lives in the fridge.",
        "What flour works best for a rye starter?",
        "Dark rye flour. Let me work out the hydration for you.",
        "Use 80 g of water per 100 g of rye flour (80% hydration).",
    ], "ChatGPT's current node is the visible branch; hidden, code and tool nodes are skipped"

    chat = open_app(c=str(sourdough.id))
    assert texts(chat)[2] == "What flour works best for a rye starter?"
    assert "2/2" in [c.value for c in chat.caption], "the arrows offer the other branch"


@pytest.mark.parametrize(
    "link", ["9" * 20, "1" * 10_000, "١٢", "²", "0", "-3", "abc"],
    ids=["20-digits", "10000-digits", "arabic-indic-12", "superscript-2", "zero", "negative", "letters"],
)
def test_a_malformed_link_says_not_found_instead_of_crashing(configured, open_app, link):
    open_app()
    seed([f"Chat {n}" for n in range(1, 13)])  # "١٢" is 12 to int(): there is a conversation 12 it must not open
    at = open_app(c=link)
    assert not at.exception
    assert any("Conversation not found" in w.value for w in at.warning), link
    assert at.subheader[0].value == "New chat"
    assert not at.chat_message


def test_hostile_imports_say_why_on_the_import_page(configured, open_app):
    at = open_import_page(open_app)
    before = conversation_count()
    cases = {
        "deep.json": (("[" * 100_000 + "]" * 100_000).encode(), "deep.json is nested deeper than 100 levels."),
        "huge.json": (json.dumps([{"role": "user", "content": "hi", "tool_calls": [{"n": 10**30}]}]).encode(),
                      "huge.json holds a whole number beyond 64 bits at [0].tool_calls[0].n"),
        "year.json": (json.dumps({"format": "relaychat.conversation", "version": 1, "conversation": {
            "created_at": "0001-01-01T00:00:00+02:00", "messages": [{"id": 1, "role": "user", "content": "hi"}]}}).encode(),
            "is out of the range of dates RelayChat stores"),
    }
    for name, (data, reason) in cases.items():
        upload(at, name, data)
        errors = [e.value for e in at.error]
        assert errors and errors[0].startswith("Nothing was imported.") and reason in errors[0], errors
    assert conversation_count() == before


def test_a_title_with_a_right_to_left_override_does_not_read_as_another_file(configured, open_app):
    open_app()
    seed(["invoice\u202egnp.exe", "שלום עולם"])
    at = open_app()
    assert listed(at) == ["שלום עולם", "invoicegnp.exe"]
