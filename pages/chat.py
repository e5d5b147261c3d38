"""The chat: history, the live reply, the input.

History is rendered once per full run; new turns live in a fragment, so sending a message or following a
reply re-sends only the new turns, never the whole conversation or the sidebar.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from db import repository
from services import chat, endpoints
from services.chat import ChatError, ChatSettings
from services.config import chat_url
from services.generation import snapshot_of
from ui import state
from ui.endpoint_form import first_run
from ui.messages import follow_live, render_message
from ui.resources import current_user, runtime
from ui.sidebar import CONVERSATIONS_PAGE, conversation_list, endpoint_and_model, settings_panel

HISTORY_WINDOW = 40

rt = runtime()
user = current_user(rt)
views = endpoints.list_views(rt, user)
if not views:
    first_run(rt, user)
    st.stop()
conversation_id = state.conversation_id()

with rt.db.read() as session:
    conversation = repository.get_conversation(session, user, conversation_id)
    path = repository.message_path(session, conversation) if conversation else []
    limit = state.list_limit(CONVERSATIONS_PAGE)
    recent = repository.list_conversations(session, user, limit=limit + 1)

if conversation_id is not None and conversation is None:
    st.warning("Conversation not found: it may have been deleted, or the link is wrong.")
    conversation_id = None
if state.settings_need_loading(conversation_id):
    state.load_settings(conversation_id, ChatSettings.of(conversation) if conversation else None)

with st.sidebar:
    conversation_list(recent[:limit], conversation_id, has_more=len(recent) > limit)
    st.divider()
    view = endpoint_and_model(user.id, views)
    params = settings_panel()

settings = state.current_settings(params) if params is not None else None
if conversation is not None and settings is not None and settings != ChatSettings.of(conversation):
    chat.save_settings(rt, user, conversation.id, settings)

st.subheader(conversation.title if conversation else "New chat")
if view is not None:
    st.caption(f"POST {chat_url(view.base_url)}")


def rerun_turns() -> None:
    """Rerun only the new turns when a fragment rerun is under way; a full run can only rerun in full."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


def retry(message_id: int) -> None:
    if settings is None:
        state.notify("chat", "Fix the parameters in the sidebar first.")
        return
    try:
        chat.retry(rt, user, message_id, settings)
    except ChatError as exc:
        state.notify("chat", str(exc))


# Finished messages are rendered here once; the newest ones only, the rest on demand.
settled = path[:-1] if path and path[-1].status == "streaming" else path
window = state.history_window(HISTORY_WINDOW)
if len(settled) > window:
    if st.button(f"Show earlier messages ({len(settled) - window} more)", key="show_earlier", type="tertiary"):
        state.widen_history(HISTORY_WINDOW)
        st.rerun()
for message in settled[-window:]:
    render_message(message, on_retry=retry if message is path[-1] else None)
rendered_until = settled[-1].id if settled else 0


@st.fragment
def new_turns() -> None:
    """Messages added since the full run, the streaming reply, and the input."""
    with rt.db.read() as session:
        current = repository.get_conversation(session, user, conversation_id)
        turns = repository.message_path(session, current) if current else []
    if [m.id for m in turns if m.id <= rendered_until] != [m.id for m in settled]:
        st.rerun()  # the branch changed under us (e.g. a retry elsewhere): redraw everything
    turns = [m for m in turns if m.id > rendered_until]
    live = turns[-1] if turns and turns[-1].status == "streaming" else None
    for message in turns:
        if message is not live:
            render_message(message, on_retry=retry if message is turns[-1] else None)

    notice = state.take_notice("chat")
    if notice:
        st.error(notice)
    draft = state.take_draft()
    if draft is not None:
        state.set_value("chat_input", draft)
    with st.bottom:
        text = st.chat_input("Message", key="chat_input")
    if text:
        send(text)
    if live is not None:
        follow_live(lambda: snapshot_of(rt.registry, rt.db, live.id), lambda: rt.registry.stop(live.id))
        rerun_turns()


def send(text: str) -> None:
    if settings is None:
        state.keep_draft(text)
        state.notify("chat", "A parameter in the sidebar is not valid: fix it and send again (your message is kept).")
        rerun_turns()
    try:
        turn = chat.send_message(rt, user, conversation_id, text, settings)
    except ChatError as exc:
        state.keep_draft(text)
        state.notify("chat", str(exc))
        rerun_turns()
    if turn.conversation_id != conversation_id:  # a new conversation: the title and sidebar change too
        state.open_conversation(turn.conversation_id)
        state.load_settings(turn.conversation_id, None)
        st.rerun()
    rerun_turns()


new_turns()
