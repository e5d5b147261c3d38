"""Scrolling the page to where a reader expects to be; otherwise Streamlit keeps the scroll position it had."""

from __future__ import annotations

import json

import streamlit as st

_MAIN = "document.querySelector('[data-testid=stMain]')"


def to_bottom(conversation_id: int) -> str:
    """To the latest message, as a conversation opens (Streamlit's stick-to-bottom follows from there)."""
    return f"/* {conversation_id} */ const main = {_MAIN}; if (main) main.scrollTop = main.scrollHeight;"


def into_view(key: str) -> str:
    """The element drawn with `key` to the middle of the view (the bottom of the view is under the chat input)."""
    return f"document.querySelector({json.dumps('.st-key-' + key)})?.scrollIntoView({{block: 'center'}});"


def draw(script: str | None) -> None:
    """The page's one script element, drawn on every run at the same place so that it never shifts the layout;
    the browser runs its script when it changes. Only our own fixed scripts go in (no user or model text)."""
    st.html(f"<script>{script or ''}</script>", unsafe_allow_javascript=True)
