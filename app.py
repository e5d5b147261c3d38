"""RelayChat: a browser chat front-end for any OpenAI-compatible chat-completions endpoint."""

from __future__ import annotations

import logging

import streamlit as st

from services import endpoints
from ui.resources import current_user, runtime

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="RelayChat", page_icon="💬", layout="wide")

rt = runtime()
user = current_user(rt)
has_endpoint = bool(endpoints.list_views(rt, user))

chat_page = st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=has_endpoint, url_path="chat")
endpoints_page = st.Page("pages/endpoints.py", title="Endpoints", icon=":material/hub:", default=not has_endpoint, url_path="endpoints")
# The page set depends on the user: admin pages will be added here only for admins.
pages = [chat_page, endpoints_page] if has_endpoint else [endpoints_page]
navigation = st.navigation(pages, position="top" if has_endpoint else "hidden")
try:
    navigation.run()
except Exception:  # Stop/rerun are BaseExceptions and pass through; a bug is logged, never shown raw
    logging.getLogger("relaychat").exception("page %s failed", navigation.title)
    st.error("Something went wrong on this page. Your conversation is saved; reload the page to continue.")
