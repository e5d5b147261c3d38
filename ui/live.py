"""Following a streaming reply: finished blocks sent once, only the growing tail re-sent."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from services.generation import Snapshot
from services.markdown import stable_prefix_length
from services.rendering import ImagePolicy, escape_markdown, prepare_markdown, split_reasoning

POLL_SECONDS = 0.05  # how often a streaming reply is looked at
TAIL_INTERVAL = 0.3  # how often its growing tail is sent to the browser
# Finished blocks leave the tail once they hold this many characters: each freeze costs a second update, and
# the browser's cost grows with the number of updates more than with their size (benchmarks/README.md).
FREEZE_CHARS = 400
FIRST_WORDS_WAIT = 0.3  # the longest the rest of the page waits for a reply's first words
# ...and how long after them: sent together, the browser would paint the first words only with the whole page.
PAINT_GAP = 0.1
CURSOR = " ▌"


# While a reply streams the Stop button is the running indicator: Streamlit's own would only stop the watching (not
# the reply), and its animation costs the browser more than the reply's text does.
HIDE_RUNNING_INDICATOR = "<style>[data-testid=stStatusWidget]{display:none}</style>"


def follow_live(
    read: Callable[[], Snapshot | None], bubble: DeltaGenerator, *, choices: int = 1, allow_remote_images: ImagePolicy = True,
    on_first_words: Callable[[], None] | None = None,
) -> Snapshot | None:
    """Show a streaming reply in the `bubble` (a chat message) until it ends.

    Finished markdown blocks are written once (in batches of FREEZE_CHARS); only the growing tail is rewritten,
    at most every TAIL_INTERVAL seconds (the first words at once), so the websocket carries a few times the
    reply's own size and the browser renders a few small updates a second however fast the tokens come.
    With `choices` > 1 (the request's n) every choice streams in its own tab from the start.
    `on_first_words` runs once, as soon as the first words are shown (or FIRST_WORDS_WAIT has passed without
    any): the page draws the rest of itself there, so the reply does not wait for it."""
    st.html(HIDE_RUNNING_INDICATOR)  # style only: it goes to the page's event container and takes no space
    with bubble:
        thinking = st.empty()
        body = st.container()
        tail = body.empty()
    started, first_words_at = time.monotonic(), None

    def page_due(now: float) -> bool:
        """Whether on_first_words runs now: once the first words have had time to be painted, or none came."""
        return on_first_words is not None and (
            (first_words_at is not None and now - first_words_at >= PAINT_GAP) or now - started >= FIRST_WORDS_WAIT
        )

    def shown(anything: bool, last: bool = False) -> None:
        nonlocal on_first_words, first_words_at
        if on_first_words is None:
            return
        now = time.monotonic()
        first_words_at = first_words_at or (now if anything else None)
        if last or page_due(now):
            draw, on_first_words = on_first_words, None
            draw()

    shown_stable, last_tail, last_sent = 0, None, 0.0
    snapshot = read()
    tabs: list[DeltaGenerator] = []
    # n > 1: every choice live in its own tab, drawn before the first token (the endpoint may be slow to start).
    while snapshot is not None and (choices > 1 or len(snapshot.choices) > 1):
        if not tabs:
            with body:
                labels = [f"Choice {i + 1}" for i in range(max(choices, len(snapshot.choices)))]
                tabs = [tab.empty() for tab in st.tabs(labels)]
        texts = snapshot.choices or (snapshot.content,)
        for index, slot in enumerate(tabs):
            text = texts[index] if index < len(texts) else ""
            slot.markdown(prepare_markdown(text + ("" if snapshot.done else CURSOR), streaming=True,
                                           allow_remote_images=allow_remote_images))
        shown(True, last=snapshot.done)
        if snapshot.done:
            return snapshot
        time.sleep(TAIL_INTERVAL)
        snapshot = read()
    while snapshot is not None:
        reasoning, text = snapshot.reasoning, snapshot.content
        if not reasoning:
            reasoning, text = split_reasoning(text)
        now = time.monotonic()
        # What arrived goes out before the page is drawn: a fast reply must not wait behind the sidebar.
        due = snapshot.done or page_due(now) or tail_due(last_tail, now - last_sent)
        if reasoning and not text and due:
            thinking.caption("Thinking… " + escape_markdown(reasoning[-300:]))  # as written, not as markdown
            last_sent = now
        elif text and reasoning:
            thinking.empty()
        # Scanned only when something may be sent, and only past the written blocks: each ends where a block
        # does, so the scan starts outside any fence; a long reply is not re-read twenty times a second.
        stable = shown_stable + stable_prefix_length(text[shown_stable:]) if due else shown_stable
        fresh = False  # the tail is a new element: written with body.markdown, one delta instead of two
        if stable > shown_stable and (stable - shown_stable >= FREEZE_CHARS or snapshot.done):
            tail.markdown(prepare_markdown(text[shown_stable:stable], allow_remote_images=allow_remote_images))
            shown_stable, last_tail, fresh = stable, None, True
        rest = text[shown_stable:] + ("" if snapshot.done else CURSOR)
        if due and rest != last_tail and rest.strip():
            markdown = prepare_markdown(rest, streaming=not snapshot.done, allow_remote_images=allow_remote_images)
            tail = body.markdown(markdown) if fresh else tail.markdown(markdown)
            last_tail, last_sent = rest, now
        elif fresh:
            tail = body.empty()
        elif snapshot.done and last_tail is not None:  # ended with nothing after the cursor: no cursor left behind
            tail.empty()
        shown(bool(text or reasoning), last=snapshot.done)
        if snapshot.done:
            return snapshot
        time.sleep(POLL_SECONDS)
        snapshot = read()
    shown(True, last=True)
    return snapshot


def tail_due(shown_tail: str | None, since_sent: float) -> bool:
    """Whether the tail may be rewritten now: at most every TAIL_INTERVAL, but at once while the bubble shows no
    words yet (nothing, or only the cursor), so the first words never wait for the interval."""
    return not (shown_tail or "").strip(" ▌") or since_sent >= TAIL_INTERVAL
