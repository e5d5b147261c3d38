"""RelayChat: a browser chat front-end for any OpenAI-compatible chat-completions endpoint."""

from __future__ import annotations

import logging

import streamlit as st

from db.engine import WriteFailed
from ui import state
from ui.resources import runtime

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="RelayChat", page_icon="💬", layout="wide")

runtime()  # migrate and start the shared parts before any page renders

# The page set depends on the user: admin pages will be added here only for admins.
chat = st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=True)
pages = [
    chat,
    st.Page("pages/endpoints.py", title="Endpoints", icon=":material/hub:", url_path="endpoints"),
    st.Page("pages/data.py", title="Import and export", icon=":material/import_export:", url_path="data"),
]
navigation = st.navigation(pages, position="top")
state.arrive_at("chat" if navigation is chat else navigation.url_path)
state.keep_settings()  # before any page: a page that does not draw the settings must not lose them
try:
    navigation.run()
except WriteFailed as exc:  # the database refused a change: it is not stored, and the page must not claim it is
    logging.getLogger("relaychat").warning("page %s: a change was not saved: %s", navigation.title, exc)
    st.error(f"Your last change was not saved: {exc}. Reload the page to try again.")
except Exception:  # Stop/rerun are BaseExceptions and pass through; a bug is logged, never shown raw
    logging.getLogger("relaychat").exception("page %s failed", navigation.title)
    # Honest: what was committed before the failure is kept, but the action that failed may not have been.
    st.error("Something went wrong on this page; what you did last may not have been saved. "
             "Reload the page to continue.")
