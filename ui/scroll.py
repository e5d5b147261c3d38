"""Scrolling the page to where a reader expects to be; otherwise Streamlit keeps the scroll position it had."""

from __future__ import annotations

import json

import streamlit as st

_MAIN = "document.querySelector('[data-testid=stMain]')"


def to_bottom(conversation_id: int) -> str:
    """To the latest message, as a conversation opens; again while code blocks are highlighted and images load
    (the page grows after it is drawn), unless the reader has scrolled up meanwhile."""
    return (f"/* {conversation_id} */ const main = {_MAIN}; let at = -1;"
            "const go = () => { if (!main || (at >= 0 && main.scrollTop < at - 4)) return;"
            " main.scrollTop = main.scrollHeight; at = main.scrollTop; };"
            "go(); for (const ms of [200, 600, 1500]) setTimeout(go, ms);")


def into_view(key: str) -> str:
    """The element drawn with `key` to the top of the view, below the page's top bar (the bottom of the view is
    under the chat input, and a tall element shows its beginning)."""
    return (f"const el = document.querySelector({json.dumps('.st-key-' + key)});"
            "if (el) { el.style.scrollMarginTop = '5rem'; el.scrollIntoView({block: 'start'}); }")


def draw(script: str | None) -> None:
    """The page's one script element, drawn on every run at the same place so that it never shifts the layout;
    the browser runs its script when it changes. Only our own fixed scripts go in (no user or model text)."""
    st.html(f"<script>{script or ''}</script>", unsafe_allow_javascript=True)
