"""Import and export: conversations in and out of RelayChat, whole or one at a time."""

from __future__ import annotations

import hashlib
import logging

import streamlit as st

from services import conversations
from services.history import ImportFormatError
from ui import state
from ui.resources import current_user, runtime

MAX_IMPORT_MB = 200
log = logging.getLogger("relaychat")

rt = runtime()
user = current_user(rt)

st.title("Import and export")

st.subheader("Import")
st.write(
    "RelayChat JSON (one conversation or a full backup), a plain OpenAI `messages` array, or ChatGPT's "
    "`conversations.json` (from its data export; the .zip works too). Branches are kept. A file with a problem "
    "imports nothing."
)
upload = st.file_uploader("File to import", type=["json", "zip"], key="import_file", max_upload_size=MAX_IMPORT_MB)
notice = state.take_notice("import")
if notice:
    st.success(notice)
if upload is not None:
    data = upload.getvalue()
    fingerprint = hashlib.sha256(data).hexdigest()
    # A second click on Import (a double click, a rerun) must not import the file again: the button it lands on
    # is gone, and importing the same file again takes a deliberate click on another one.
    if state.was_imported(fingerprint):
        st.info(f"{upload.name} is already imported. Import it again only if you want a second copy.")
        do_import = st.button("Import a second copy", key="do_import_again", icon=":material/content_copy:")
    else:
        do_import = st.button("Import", key="do_import", type="primary", icon=":material/upload:")
    if do_import:
        state.mark_imported(fingerprint)  # before importing: a click arriving meanwhile sees it
        try:
            result = conversations.import_file(rt, user, data, upload.name)
        except ImportFormatError as exc:
            state.mark_imported(fingerprint, False)
            st.error(f"Nothing was imported. {exc}")
        except Exception:  # a case the checks missed: the reason goes to the log, the page still says what happened
            state.mark_imported(fingerprint, False)
            log.exception("import of %s failed", upload.name)
            st.error("Nothing was imported. RelayChat could not read this file; the reason is in the server's log.")
        else:
            count = len(result.conversation_ids)
            imported = f"Imported {count} conversation(s) with {result.message_count} message(s)."
            if count == 1:  # imported to be read: open it, the notice above its title
                state.notify("header", imported)
                st.switch_page("pages/chat.py", query_params={"c": str(result.conversation_ids[0])})
            state.notify("import", imported)
            st.rerun()

st.subheader("Export everything")
st.write("One JSON file with every conversation, its branches and settings (API keys are never included).")
st.download_button(
    "Download backup", key="export_backup", icon=":material/download:", mime="application/json",
    file_name="relaychat-backup.json", on_click="ignore", data=lambda: conversations.export_backup(rt, user),
)
st.caption("To export one conversation, open it and use the ⋯ menu next to its title.")
