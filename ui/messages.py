"""How messages look once they are saved (ui/live.py follows a streaming one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from db.models import Message
from services import conversations, json_limits
from services.json_reply import check_json_reply
from services.reply_facts import length_note, timing_facts
from services.rendering import ImagePolicy, escape_markdown, extract_media, is_safe_media_url, prepare_markdown, split_reasoning
from ui.literal import code_span, literal_markdown
from ui.media import render_media
from ui.resources import current_user, runtime

EMPTY_REPLY = "Empty reply: the model sent no text."
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
    """One message, then its toolbar (time, copy, branch arrows `< 2/3 >`, ⋯) and, when opened, its tools."""
    with st.container(key=bubble_key(message.id)):
        render_bubble(message, actions=actions, last=last, details=details, allow_remote_images=allow_remote_images)
    message_toolbar(message, actions, siblings, tools_open)


def bubble_key(message_id: int) -> str:
    """The key of the container around a message's bubble (its copy button reads the text there)."""
    return f"message_{message_id}"


def live_bubble_key(message_id: int) -> str:
    """The same for a reply followed live (its bubble may be drawn again, finished, in the same run)."""
    return f"live_reply_{message_id}"


# A message's toolbar sits under the right edge of its bubble, closer to it than to the next; its time shows while
# the message or the toolbar is hovered.
TOOLBAR_STYLE = (
    '<style>[class*="st-key-toolbar_"]{margin-top:-0.75rem}'
    '[class*="st-key-sent_at_"]{opacity:0;transition:opacity .15s}'
    '[class*="st-key-toolbar_"]:hover [class*="st-key-sent_at_"],'
    'div:has(>[class*="st-key-message_"]:hover,>div>[class*="st-key-live_reply_"]:hover)'
    '+div>[class*="st-key-toolbar_"] [class*="st-key-sent_at_"]{opacity:1}</style>'
)


def message_toolbar(message: Message, actions: Actions, siblings: tuple[int, ...], tools_open: bool) -> None:
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center",
                      key=f"toolbar_{message.id}", gap="small"):
        if message.created_at is not None:
            with st.container(key=f"sent_at_{message.id}", width="content"):
                st.caption(sent_at(message.created_at))
        # The copy is done in the browser (ui/scroll.py) from the bubble's text: no second copy of it is sent.
        st.button("", key=f"copy_{message.id}", icon=":material/content_copy:", type="tertiary", help="Copy")
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


def sent_at(when: datetime, now: datetime | None = None) -> str:
    """When a message was written, in the reader's time zone (the browser's): the time today, else the date too."""
    local = when.astimezone(reader_zone())
    today = (now or datetime.now(timezone.utc)).astimezone(local.tzinfo).date()
    return local.strftime("%H:%M" if local.date() == today else "%d %b %Y, %H:%M")


def reader_zone() -> tzinfo:
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ValueError, KeyError):  # an unknown or malformed zone name from the browser
        return timezone.utc


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
        st.caption("The text as markdown (copy it with the button at the top right of the box):")
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
    if message.status == "complete" and not (message.content or message.tool_calls or message.choices):
        st.caption(EMPTY_REPLY)
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
            st.text(reasoning)  # as written: "17*20 … 17*3" is arithmetic, not italics
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
    # Opens at the chosen one: after "Continue with this one" the labels change and the tabs are drawn anew.
    default = next((label for label, c in zip(labels, choices) if c["index"] == chosen), None)
    for tab, choice in zip(st.tabs(labels, default=default), choices):
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


def needs_full_render(message: Message) -> bool:
    """Whether a reply that just streamed must be drawn again to look finished (tabs, tool calls, a JSON badge,
    media below it, a Thinking section); plain text already looks as it will."""
    return bool(
        (message.choices and len(message.choices) > 1)
        or message.tool_calls
        or message.reasoning
        or json_schema_of(message.request) is not False
        or extract_media(message.content or "")  # shown below it, or a placeholder asking first
        or split_reasoning(message.content or "")[0]
    )
