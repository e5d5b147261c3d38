"""The sidebar's history: new chat, search with highlighted snippets, and the conversation list."""

from __future__ import annotations

import streamlit as st

from db.models import User
from services import conversations
from services.chat import ChatError
from services.history import export_filename
from services.rendering import escape_markdown
from services.runtime import Runtime
from ui import state

PAGE = 30

# Conversation titles: one left-aligned line each, cut with an ellipsis (a button centres and wraps its label).
LIST_STYLE = (
    '<style>[class*="st-key-open_"] button,[class*="st-key-hit_"] button{justify-content:flex-start;'
    'min-height:2rem;padding:.2rem .5rem;border-radius:.5rem;max-width:100%}'
    '[class*="st-key-open_"] button *,[class*="st-key-hit_"] button *{min-width:0;justify-content:flex-start}'
    '[class*="st-key-open_"] button>div,[class*="st-key-hit_"] button>div{overflow:hidden}'
    '[class*="st-key-open_"] button p,[class*="st-key-hit_"] button p{white-space:nowrap;overflow:hidden;'
    'text-overflow:ellipsis;text-align:left}</style>'
)


def active_style(conversation_id: int) -> str:
    """The open conversation's row, marked quietly (a light background instead of the red primary button)."""
    return (f'<style>.st-key-open_{conversation_id} button{{background:rgba(151,166,195,.25);font-weight:600;'
            'color:inherit}</style>')


def history_sidebar(rt: Runtime, user: User, current: int | None) -> None:
    # A callback: it runs before the page, so a message sent in the same rerun goes to the new chat.
    st.button("New chat", icon=":material/add:", use_container_width=True, key="new_chat",
              on_click=state.open_conversation, args=(None,))
    query = st.text_input("Search", key="history_query", placeholder="Search conversations", icon=":material/search:",
                          label_visibility="collapsed")
    if query.strip():
        search_results(rt, user, query)
        return
    deleted = state.recently_deleted()
    if deleted is not None:
        with st.container(border=True):
            st.caption(f"Deleted “{escape_markdown(deleted[1])}”.")
            if st.button("Undo", key="undo_delete", icon=":material/undo:", type="tertiary"):
                conversations.undo_delete(rt, user, deleted[0])
                state.forget_deleted()
                state.open_conversation(deleted[0])
                st.rerun()
    items, more = conversations.recent(rt, user, state.list_limit(PAGE))
    streaming = conversations.streaming_among(rt, (item.id for item in items))
    st.html(LIST_STYLE + (active_style(current) if current is not None else ""))  # styles only: no place taken
    for item in items:
        selected = item.id == current
        live = item.id in streaming and not selected
        st.button(
            escape_markdown(item.title or "Untitled"), key=f"open_{item.id}", use_container_width=True,
            type="tertiary", help="Still answering" if live else None,
            icon=":material/progress_activity:" if live else ":material/push_pin:" if item.pinned else None,
            on_click=None if selected else state.open_conversation, args=(item.id,),
        )
    if more and st.button("Show more", key="more_conversations", type="tertiary", icon=":material/expand_more:"):
        state.show_more(PAGE)
        st.rerun()


def search_results(rt: Runtime, user: User, query: str) -> None:
    hits = conversations.find(rt, user, query)
    st.html(LIST_STYLE)
    if not hits:
        st.caption("No conversation matches.")
    for number, hit in enumerate(hits):
        st.button(escape_markdown(hit.title or "Untitled"), key=f"hit_{number}", use_container_width=True, type="tertiary",
                  on_click=state.open_conversation, args=(hit.conversation_id,))
        snippet = "".join(snippet_markdown(s.text, s.is_match) for s in hit.snippet).strip()
        if snippet:
            st.caption(snippet)


def snippet_markdown(text: str, is_match: bool) -> str:
    """One snippet piece as markdown; the spaces around it are kept (escape_markdown drops them, which glued
    the bold match to its neighbours: "my**sourdough**starter")."""
    escaped = escape_markdown(text)
    if is_match and escaped:
        escaped = f"**{escaped}**"
    before = " " if text[:1].isspace() else ""
    after = " " if text[-1:].isspace() and escaped else ""
    return before + escaped + after


def conversation_menu(rt: Runtime, user: User, conversation_id: int, title: str, pinned: bool) -> None:
    """Rename, pin, export and delete the open conversation."""
    with st.popover("", icon=":material/more_horiz:", help="Rename, pin, export or delete this conversation"):
        new_title = st.text_input("Title", value=title, key=f"title_{conversation_id}", max_chars=300)
        if st.button("Rename", key="rename", icon=":material/edit:") and new_title.strip() != title:
            try:
                conversations.rename(rt, user, conversation_id, new_title)
            except ChatError as exc:  # an empty title: say so here instead of failing the page
                st.error(str(exc))
            else:
                st.rerun()
        if st.button("Unpin" if pinned else "Pin to top", key="pin", icon=":material/push_pin:"):
            conversations.pin(rt, user, conversation_id, not pinned)
            st.rerun()
        st.download_button("Export Markdown", key="export_md", icon=":material/download:", mime="text/markdown",
                           file_name=export_filename(title, "md"), on_click="ignore",
                           data=lambda: conversations.export_markdown(rt, user, conversation_id))
        st.download_button("Export JSON", key="export_json", icon=":material/download:", mime="application/json",
                           file_name=export_filename(title, "json"), on_click="ignore",
                           data=lambda: conversations.export_json(rt, user, conversation_id))
        confirm = st.checkbox("Yes, delete this conversation", key=f"confirm_delete_{conversation_id}")
        if st.button("Delete", key="delete_conversation", icon=":material/delete:", disabled=not confirm):
            conversations.delete(rt, user, conversation_id)
            state.remember_deleted(conversation_id, title)
            state.open_conversation(None)
            st.rerun()
