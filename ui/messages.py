"""How messages look: finished ones once, a streaming one followed live with only its tail re-sent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from db.models import Message
from services import conversations, json_limits
from services.generation import Snapshot
from services.json_reply import check_json_reply
from services.markdown import stable_prefix_length
from services.reply_facts import length_note, timing_facts
from services.rendering import ImagePolicy, escape_markdown, extract_media, is_safe_media_url, prepare_markdown, split_reasoning
from ui.literal import code_span, literal_markdown
from ui.media import render_media
from ui.resources import current_user, runtime

POLL_SECONDS = 0.05  # how often a streaming reply is looked at
TAIL_INTERVAL = 0.3  # how often its growing tail is sent to the browser
# Finished blocks leave the tail once they hold this many characters: each freeze costs a second update, and
# the browser's cost grows with the number of updates more than with their size (benchmarks/README.md).
FREEZE_CHARS = 400
FIRST_WORDS_WAIT = 0.3  # the longest the rest of the page waits for a reply's first words
# ...and how long after them: sent together, the browser would paint the first words only with the whole page.
PAINT_GAP = 0.1
STATUS_NOTES = {"stopped": "Stopped: the reply was cut where you pressed Stop."}

Retry = Callable[[int], None]


@dataclass(frozen=True)
class Actions:
    """What the buttons under the last reply do; None hides the button."""

    retry: Retry | None = None
    choose: Callable[[int, int], None] | None = None
    continue_: Retry | None = None
    tool_results: Callable[[int, dict[str, str]], None] | None = None
    toggle_details: Retry | None = None
    switch: Retry | None = None
    edit: Callable[[int, str], None] | None = None
    fork: Retry | None = None
    delete: Retry | None = None
    toggle_tools: Retry | None = None


def render_message(
    message: Message, *, actions: Actions = Actions(), last: bool = False, details: bool = False,
    siblings: tuple[int, ...] = (), tools_open: bool = False, allow_remote_images: ImagePolicy = True,
) -> None:
    """One message, then its branch arrows (`< 2/3 >`) and, when opened, its tools (edit, fork, copy, delete)."""
    render_bubble(message, actions=actions, last=last, details=details, allow_remote_images=allow_remote_images)
    if len(siblings) > 1 or actions.toggle_tools:
        message_toolbar(message, actions, siblings, tools_open)


# A message's toolbar (its ⋯ and branch arrows) sits under the right edge of its bubble, closer to it than to the next.
TOOLBAR_STYLE = '<style>[class*="st-key-toolbar_"]{margin-top:-0.75rem}</style>'


def message_toolbar(message: Message, actions: Actions, siblings: tuple[int, ...], tools_open: bool) -> None:
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center",
                      key=f"toolbar_{message.id}", gap="small"):
        if len(siblings) > 1 and actions.switch:
            position = siblings.index(message.id)
            st.button("", key=f"prev_{message.id}", icon=":material/chevron_left:", type="tertiary",
                      disabled=position == 0, on_click=actions.switch, args=(siblings[max(position - 1, 0)],))
            st.caption(f"{position + 1}/{len(siblings)}", width="content")
            st.button("", key=f"next_{message.id}", icon=":material/chevron_right:", type="tertiary",
                      disabled=position == len(siblings) - 1, on_click=actions.switch,
                      args=(siblings[min(position + 1, len(siblings) - 1)],))
        if actions.toggle_tools:
            st.button("", key=f"tools_{message.id}", icon=":material/more_horiz:", type="tertiary",
                      on_click=actions.toggle_tools, args=(message.id,), help="Edit, fork, copy or delete")
    if tools_open:
        message_tools(message, actions)


def tools_key(message_id: int) -> str:
    return f"message_tools_{message_id}"


def message_tools(message: Message, actions: Actions) -> None:
    with st.container(border=True, key=tools_key(message.id)):
        if message.role == "user" and actions.edit:
            text = st.text_area("Edit and resend (a new branch; the original stays)", value=message.content,
                                key=f"edit_text_{message.id}")
            if st.button("Send edited message", key=f"edit_{message.id}", icon=":material/send:", type="primary"):
                actions.edit(message.id, text)
                st.rerun()
        if message.role == "assistant" and actions.toggle_details:
            st.button("Details: request, timing, usage", key=f"details_{message.id}", icon=":material/info:",
                      on_click=actions.toggle_details, args=(message.id,))
        if message.role == "assistant" and actions.retry and message.status != "streaming":
            st.button("Regenerate (a new branch)", key=f"regenerate_{message.id}", icon=":material/autorenew:",
                      on_click=actions.retry, args=(message.id,))
        st.caption("Copy the text with the button at the top right of the box:")
        st.code(message.content or "", language=None, wrap_lines=True)
        if actions.fork:
            st.button("Fork into a new conversation (up to here)", key=f"fork_{message.id}", icon=":material/call_split:",
                      on_click=actions.fork, args=(message.id,))
        if actions.delete:
            sure = st.checkbox("Delete this message and every reply below it", key=f"confirm_delete_message_{message.id}")
            st.button("Delete message", key=f"delete_message_{message.id}", icon=":material/delete:", disabled=not sure,
                      on_click=actions.delete, args=(message.id,))


def render_bubble(
    message: Message, *, actions: Actions, last: bool, details: bool, allow_remote_images: ImagePolicy
) -> None:
    if message.role == "tool":
        with st.chat_message("tool", avatar=":material/build:"):
            st.caption(f"Tool result for {code_span(message.tool_call_id or '')}")
            st.code(message.content, language=None, wrap_lines=True)
        return
    role = message.role if message.role in ("user", "assistant") else "assistant"
    with st.chat_message(role):
        if role == "user":
            st.markdown(prepare_markdown(message.content, allow_remote_images=allow_remote_images))
            render_attachments(message.attachments or [])
            return
        if message.choices and len(message.choices) > 1:
            render_choices(message, actions, allow_remote_images)
        else:
            render_answer(message.content or "", message.reasoning or "", message.request, message.response_meta,
                          allow_remote_images, media_key=str(message.id))
        render_reply_footer(message, actions=actions, last=last, details=details)


def render_reply_footer(message: Message, *, actions: Actions, last: bool, details: bool) -> None:
    """Under a reply's text: its tool calls, how it ended, and its buttons."""
    for call in message.tool_calls or ():
        render_tool_call(call)
    if message.tool_calls and last and message.status == "complete" and actions.tool_results:
        tool_results_form(message.id, message.tool_calls, actions.tool_results)
    render_outcome(message, actions.retry if last else None)
    if last and message.finish_reason == "length" and actions.continue_:
        st.button("Continue", key=f"continue_{message.id}", on_click=actions.continue_, args=(message.id,),
                  icon=":material/play_arrow:")
    if details:
        render_details(message)


def render_answer(
    content: str, reasoning: str, request: dict[str, Any] | None, meta: dict[str, Any] | None,
    allow_remote_images: ImagePolicy = True, media_key: str = "",
) -> None:
    if not reasoning:
        reasoning, content = split_reasoning(content)
    if reasoning:
        thinking_ms = (meta or {}).get("thinking_ms")
        label = f"Thought for {thinking_ms / 1000:.1f} s" if thinking_ms else "Thinking"
        with st.expander(label, icon=":material/psychology:"):
            st.markdown(prepare_markdown(reasoning, allow_remote_images=allow_remote_images))
    schema = json_schema_of(request)
    if content and schema is not False:
        verdict = check_json_reply(content, schema or None)
        if verdict.pretty is not None:
            st.code(verdict.pretty, language="json")
        else:
            st.markdown(prepare_markdown(content, allow_remote_images=allow_remote_images))
        if verdict.validates is True:
            st.badge("JSON · valid against the schema", icon=":material/check:", color="green")
        elif verdict.parses and verdict.validates is None:
            st.badge("JSON · parses", icon=":material/check:", color="green")
        else:
            # The problem quotes the schema and the reply (model output): drawn literally, never as markdown.
            st.badge(escape_markdown(verdict.problem or "Not valid JSON"), icon=":material/close:", color="red")
    elif content:
        st.markdown(prepare_markdown(content, allow_remote_images=allow_remote_images))
        render_media(content, allow_remote_images, key=media_key)


def json_schema_of(request: dict[str, Any] | None) -> dict[str, Any] | bool:
    """False when JSON was not asked for; {} for json_object; the schema for json_schema."""
    response_format = (request or {}).get("response_format") or {}
    if response_format.get("type") == "json_object":
        return {}
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema") or {}
    return False


def render_choices(message: Message, actions: Actions, allow_remote_images: ImagePolicy = True) -> None:
    choices = sorted(message.choices or [], key=lambda c: c["index"])
    chosen = message.chosen_index or 0
    labels = [f"{'★ ' if c['index'] == chosen else ''}Choice {c['index'] + 1}" for c in choices]
    for tab, choice in zip(st.tabs(labels), choices):
        with tab:
            render_answer(choice["content"] or "", choice.get("reasoning") or "", message.request,
                          message.response_meta, allow_remote_images, media_key=f"{message.id}_{choice['index']}")
            if choice["index"] == chosen:
                st.caption("This choice continues the conversation.")
            elif actions.choose:
                st.button("Continue with this one", key=f"choose_{message.id}_{choice['index']}",
                          on_click=actions.choose, args=(message.id, choice["index"]))


def render_tool_call(call: dict[str, Any]) -> None:
    function = call.get("function") or {}
    # Tool names and ids are model output: in code spans, where markdown (an image) cannot start.
    st.markdown(f"**Tool call** {code_span(str(function.get('name', '?')))}  \n{code_span(str(call.get('id', '')))}")
    arguments = function.get("arguments") or ""
    try:
        st.code(json.dumps(json_limits.loads(arguments or "{}", max_chars=None), indent=2, ensure_ascii=False),
                language="json")
    except ValueError:
        st.code(arguments, language=None)
        st.warning("The arguments are not valid JSON.", icon=":material/warning:")


def tool_results_form(message_id: int, calls: list[dict[str, Any]], submit: Callable[[int, dict[str, str]], None]) -> None:
    with st.form(key=f"tool_results_{message_id}", border=True):
        st.caption("Type what each tool returned; it is sent back as a tool message and the model continues.")
        results = {
            call["id"]: st.text_area(f"Result of {escape_markdown(str(call['function']['name']))}", key=f"tool_result_{message_id}_{call['id']}",
                                     height=80, placeholder='{"temperature": 21}')
            for call in calls
        }
        if st.form_submit_button("Send results", type="primary", icon=":material/send:"):
            submit(message_id, results)
            st.rerun()


def render_details(message: Message) -> None:
    """The inspector: what was sent (messages included), what came back (or the error's status and headers), and
    how fast."""
    meta = message.response_meta or {}
    facts = timing_facts(message.time_to_first_token_ms, message.duration_ms, message.completion_tokens)
    if message.total_tokens is not None:
        facts.append(f"usage {message.prompt_tokens} prompt + {message.completion_tokens} completion = {message.total_tokens}")
    facts.append(f"finish_reason {message.finish_reason or '—'}")
    st.caption(" · ".join(facts))
    rt = runtime()
    request = conversations.request_as_sent(rt, current_user(rt), message)
    st.json({"request": request, "response": {k: v for k, v in meta.items() if v not in (None, {}, "")}},
            expanded=1)


def render_attachments(attachments: list[dict[str, Any]]) -> None:
    images = [a for a in attachments if a.get("kind") == "image" and is_safe_media_url(a.get("data_url") or "")]
    if images:
        st.image([a["data_url"] for a in images], caption=[a["name"] for a in images], width=160)
    for attachment in attachments:
        if attachment.get("kind") == "text":
            st.caption(f":material/attach_file: {escape_markdown(attachment['name'])} · {attachment.get('size', 0):,} bytes")


def render_outcome(message: Message, on_retry: Retry | None) -> None:
    """The line under a reply: how it ended, what went wrong (which limit cut it), and Retry where it makes sense."""
    status = message.status
    if status in ("error", "interrupted"):
        st.error(literal_markdown(message.error or "The reply failed."), icon=":material/error:")
    elif status in STATUS_NOTES:
        st.caption(STATUS_NOTES[status])
    elif message.finish_reason == "length":
        st.info(length_note(message.request, message.prompt_tokens, message.completion_tokens),
                icon=":material/content_cut:")
    elif message.model:
        st.caption(escape_markdown(message.model))  # a model id is the endpoint's word: never markdown
    if status in ("error", "interrupted", "stopped") and on_retry is not None:
        st.button("Retry", key=f"retry_{message.id}", on_click=on_retry, args=(message.id,), icon=":material/replay:")


# While a reply streams the Stop button is the running indicator: Streamlit's own would only stop the watching (not
# the reply), and its animation costs the browser more than the reply's text does.
HIDE_RUNNING_INDICATOR = "<style>[data-testid=stStatusWidget]{display:none}</style>"


def follow_live(
    read: Callable[[], Snapshot | None], bubble: DeltaGenerator, *, allow_remote_images: ImagePolicy = True,
    on_first_words: Callable[[], None] | None = None,
) -> Snapshot | None:
    """Show a streaming reply in the `bubble` (a chat message) until it ends.

    Finished markdown blocks are written once (in batches of FREEZE_CHARS); only the growing tail is rewritten,
    at most every TAIL_INTERVAL seconds (the first words at once), so the websocket carries a few times the
    reply's own size and the browser renders a few small updates a second however fast the tokens come.
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
    while snapshot is not None and len(snapshot.choices) > 1:  # n > 1: every choice live in its own tab
        if not tabs:
            with body:
                tabs = [tab.empty() for tab in st.tabs([f"Choice {i + 1}" for i in range(len(snapshot.choices))])]
        for slot, text in zip(tabs, snapshot.choices):
            slot.markdown(prepare_markdown(text + ("" if snapshot.done else " ▌"), streaming=True,
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
            thinking.caption("Thinking… " + escape_markdown(reasoning[-300:]))
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
        rest = text[shown_stable:] + ("" if snapshot.done else " ▌")
        if due and rest != last_tail and rest.strip():
            markdown = prepare_markdown(rest, streaming=not snapshot.done, allow_remote_images=allow_remote_images)
            tail = body.markdown(markdown) if fresh else tail.markdown(markdown)
            last_tail, last_sent = rest, now
        elif fresh:
            tail = body.empty()
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


def needs_full_render(message: Message) -> bool:
    """Whether a reply that just streamed must be drawn again to look finished (tabs, tool calls, a JSON badge,
    media below it, a Thinking section); plain text already looks as it will."""
    return bool(
        (message.choices and len(message.choices) > 1)
        or message.tool_calls
        or message.reasoning
        or json_schema_of(message.request) is not False
        or extract_media(message.content or "")
        or split_reasoning(message.content or "")[0]
    )
