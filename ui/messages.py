"""How messages look: finished ones once, a streaming one followed live with only its tail re-sent."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from db.models import Message
from services.generation import Snapshot
from services.markdown import stable_prefix_length
from services.rendering import extract_media, prepare_markdown, split_reasoning

POLL_SECONDS = 0.1
STATUS_NOTES = {"stopped": "Stopped: the reply was cut where you pressed Stop."}

Retry = Callable[[int], None]


def render_message(message: Message, *, on_retry: Retry | None = None, allow_remote_images: bool = True) -> None:
    role = message.role if message.role in ("user", "assistant") else "assistant"
    with st.chat_message(role):
        reasoning, answer = message.reasoning or "", message.content or ""
        if not reasoning and role == "assistant":
            reasoning, answer = split_reasoning(answer)
        if reasoning:
            with st.expander("Thinking", icon=":material/psychology:"):
                st.markdown(prepare_markdown(reasoning))
        if answer:
            st.markdown(prepare_markdown(answer, allow_remote_images=allow_remote_images))
            render_media(answer)
        if role == "assistant":
            render_outcome(message.id, message.status, message.error, message.finish_reason, message.model, on_retry)


def render_media(text: str) -> None:
    """Images and videos linked in a reply, shown below it (only http(s) and data:image URLs get here)."""
    for media in extract_media(text):
        if media.kind == "image":
            st.image(media.url, caption=media.alt or None)
        else:
            st.video(media.url)
        if not media.url.startswith("data:"):
            st.caption(f"[Download]({media.url})")


def render_outcome(
    message_id: int,
    status: str,
    error: str | None,
    finish_reason: str | None,
    model: str | None,
    on_retry: Retry | None,
) -> None:
    """The line under a reply: how it ended, what went wrong, and Retry where it makes sense."""
    if status in ("error", "interrupted"):
        st.error(error or "The reply failed.", icon=":material/error:")
    elif status in STATUS_NOTES:
        st.caption(STATUS_NOTES[status])
    elif finish_reason == "length":
        st.caption("Cut by max_tokens (finish_reason: length).")
    elif model:
        st.caption(model)
    if status in ("error", "interrupted", "stopped") and on_retry is not None:
        st.button("Retry", key=f"retry_{message_id}", on_click=on_retry, args=(message_id,), icon=":material/replay:")


def follow_live(read: Callable[[], Snapshot | None], box: DeltaGenerator) -> Snapshot | None:
    """Show a streaming reply in `box` until it ends. Finished markdown blocks are written once; only the
    growing tail is rewritten, a few times a second, so the websocket carries about the reply's own size."""
    with box:
        thinking = st.empty()
        body = st.container()
        tail = body.empty()
    shown_stable, last_tail = 0, None
    snapshot = read()
    while snapshot is not None:
        reasoning, text = snapshot.reasoning, snapshot.content
        if not reasoning:
            reasoning, text = split_reasoning(text)
        if reasoning and not text:
            thinking.caption("Thinking… " + reasoning[-300:].replace("\n", " "))
        elif text and reasoning:
            thinking.empty()
        stable = stable_prefix_length(text)
        if stable > shown_stable:
            tail.markdown(prepare_markdown(text[shown_stable:stable]))
            tail = body.empty()
            shown_stable, last_tail = stable, None
        rest = text[shown_stable:] + ("" if snapshot.done else " ▌")
        if rest != last_tail and rest.strip():
            tail.markdown(prepare_markdown(rest, streaming=not snapshot.done))
            last_tail = rest
        if snapshot.done:
            return snapshot
        time.sleep(POLL_SECONDS)
        snapshot = read()
    return snapshot
