"""Import on the Import and export page: the same file is imported once however often Import is clicked or the
page reruns; a second copy takes a deliberate click."""

from __future__ import annotations

from pathlib import Path

from tests.pages.test_history_page import conversation_count, open_import_page, upload

# Several conversations: an import of several stays on this page (one alone would open in the chat).
CHATGPT_EXPORT = (Path(__file__).parents[1] / "fixtures" / "chatgpt_conversations.json").read_bytes()


def test_a_second_import_of_the_same_file_asks_first(configured, open_app):
    at = upload(open_import_page(open_app), "conversations.json", CHATGPT_EXPORT)
    imported = conversation_count()
    assert imported >= 2
    at.run()  # any rerun, as a second click landing after the first makes

    assert conversation_count() == imported
    assert not [button for button in at.button if button.key == "do_import"], "Import is not offered again"
    assert any("conversations.json is already imported" in info.value for info in at.info)

    at.button(key="do_import_again").click().run()
    assert not at.exception
    assert conversation_count() == 2 * imported


def test_a_file_that_failed_to_import_can_be_imported_after_a_fix(configured, open_app):
    at = upload(open_import_page(open_app), "broken.json", b"{not json")
    assert any("Nothing was imported" in error.value for error in at.error)
    assert conversation_count() == 0
    at.button(key="do_import").click().run()  # still offered as a first import: nothing was imported
    assert any("Nothing was imported" in error.value for error in at.error)
