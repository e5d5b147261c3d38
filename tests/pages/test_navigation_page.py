"""Moving around as a user does (AppTest): an imported conversation opens, ready to read."""

from __future__ import annotations

from tests.pages.test_chat_page import texts
from tests.pages.test_history_page import FIXTURES, open_import_page, upload


def test_an_imported_single_conversation_opens_in_the_chat(configured, open_app):
    at = upload(open_import_page(open_app), "regex.json", (FIXTURES / "relaychat_conversation.json").read_bytes())

    assert [sub.value for sub in at.subheader] == ["Regex for ISO dates"], "the chat shows the imported conversation"
    assert texts(at)[0] == "A regex that matches 2026-11-19?"
    assert any(s.value.startswith("Imported 1 conversation(s)") for s in at.success)
    assert len(at.chat_input) == 1, "ready for the next message"
