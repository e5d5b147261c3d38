"""How messages look: finished ones once, a streaming one followed live with only its tail re-sent."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from db.models import Message
from services.generation import Snapshot
from services.markdown import stable_prefix_length

POLL_SECONDS = 0.1
STATUS_NOTES = {
    "stopped": "⏹ Stopped: the reply was cut where you pressed Stop.",
}


def render_message(message: Message, on_retry: Callable[[int], None] | None = None) -> None:
    with st.chat_message(message.role if message.role in ("user", "assistant") else "assistant"):
        if message.reasoning:
            with st.expander("Thinking", expanded=False):
                st.markdown(message.reasoning)
        if message.content:
            st.markdown(message.content)
        if message.role == "assistant":
            render_outcome(message.id, message.status, message.error, message.finish_reason, message.model, on_retry)


def render_outcome(
    message_id: int,
    status: str,
    error: str | None,
    finish_reason: str | None,
    model: str | None,
    on_retry: Callable[[int], None] | None,
) -> None:
    """The line under a reply: how it ended, what went wrong, and Retry where it makes sense."""
    if status in ("error", "interrupted"):
        st.error(error or "The reply failed.", icon=":material/error:")
    elif status in STATUS_NOTES:
        st.caption(STATUS_NOTES[status])
    elif finish_reason == "length":
        st.caption("✂️ Cut by max_tokens (finish_reason: length).")
    elif model:
        st.caption(model)
    if status in ("error", "interrupted", "stopped") and on_retry is not None:
        st.button("Retry", key=f"retry_{message_id}", on_click=on_retry, args=(message_id,), icon=":material/replay:")


def follow_live(read: Callable[[], Snapshot | None], on_stop: Callable[[], None]) -> Snapshot | None:
    """Show a streaming reply until it ends. Finished blocks are written once; only the tail is rewritten,
    a few times a second, so the websocket carries roughly the reply's own size, not its square."""
    with st.chat_message("assistant"):
        st.button("Stop", key="stop_generation", on_click=on_stop, icon=":material/stop_circle:", type="secondary")
        thinking = st.empty()
        body = st.container()
        tail = body.empty()
        shown_stable = 0
        last_tail = None
        snapshot = read()
        while snapshot is not None:
            if snapshot.reasoning and not snapshot.content:
                thinking.caption("Thinking… " + snapshot.reasoning[-300:].replace("\n", " "))
            elif snapshot.content:
                thinking.empty()
            text = snapshot.content
            stable = stable_prefix_length(text)
            if stable > shown_stable:
                tail.markdown(text[shown_stable:stable])
                tail = body.empty()
                shown_stable, last_tail = stable, None
            rest = text[shown_stable:]
            cursor = "" if snapshot.done else " ▌"
            if rest + cursor != last_tail and (rest or cursor):
                tail.markdown(rest + cursor)
                last_tail = rest + cursor
            if snapshot.done:
                return snapshot
            time.sleep(POLL_SECONDS)
            snapshot = read()
    return snapshot
