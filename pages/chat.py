"""The chat: history, the live reply, the input.

A reply streams in a worker thread; this page only watches it. Following it is a loop at the end of the
script run, so the Stop button (and every other widget) interrupts the watching, never the reply.
"""

from __future__ import annotations

import streamlit as st

from db import repository
from services import chat, endpoints
from services.chat import ChatError, ChatSettings
from services.config import chat_url
from services.generation import snapshot_of
from ui import state
from ui.endpoint_form import first_run
from ui.messages import follow_live, render_message, render_outcome
from ui.resources import current_user, runtime
from ui.sidebar import CONVERSATIONS_PAGE, conversation_list, endpoint_and_model, settings_panel

HISTORY_WINDOW = 30

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


def retry(message_id: int) -> None:
    if settings is None:
        state.notify("chat", "Fix the parameters in the sidebar first.")
        return
    try:
        chat.retry(rt, user, message_id, settings)
    except ChatError as exc:
        state.notify("chat", str(exc))


def stop(message_id: int) -> None:
    rt.registry.stop(message_id)


live = path[-1] if path and path[-1].status == "streaming" else None
settled = path[:-1] if live else path
window = state.history_window(HISTORY_WINDOW)
if len(settled) > window:
    if st.button(f"Show earlier messages ({len(settled) - window} more)", key="show_earlier", type="tertiary"):
        state.widen_history(HISTORY_WINDOW)
        st.rerun()
for message in settled[-window:]:
    render_message(message, on_retry=retry if message is path[-1] else None)

notice = state.take_notice("chat")
if notice:
    st.error(notice)

draft = state.take_draft()
if draft is not None:
    state.set_value("chat_input", draft)
with st.bottom:
    stop_slot = st.empty()
    text = st.chat_input("Message", key="chat_input")

if text:
    try:
        if settings is None:
            raise ChatError("params", "A parameter in the sidebar is not valid: fix it and send again.")
        turn = chat.send_message(rt, user, conversation_id, text, settings)
    except ChatError as exc:
        state.keep_draft(text)
        state.notify("chat", f"{exc} Your message is back in the input.")
    else:
        state.open_conversation(turn.conversation_id)
        state.load_settings(turn.conversation_id, None)
    st.rerun()

if live is not None:
    stop_slot.button("Stop generating", key="stop_generation", on_click=stop, args=(live.id,), icon=":material/stop_circle:")
    box = st.chat_message("assistant")
    final = follow_live(lambda: snapshot_of(rt.registry, rt.db, live.id), box)
    stop_slot.empty()
    if final is not None:
        with box:
            render_outcome(live.id, final.status, final.error, final.finish_reason, live.model, retry)
