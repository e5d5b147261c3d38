"""The chat: history, the live reply, the input.

A reply streams in a worker thread; this page only watches it. Following it is a loop at the end of the
script run, so the Stop button (and every other widget) interrupts the watching, never the reply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.widgets.chat import ChatInputValue

from db.models import NEW_CHAT_TITLE, Message
from services import chat, conversations, endpoints, presets
from services.chat import ChatError, ChatSettings, Turn
from services.params import from_form
from services.attachments import ACCEPTED_TYPES, AttachmentError, read_uploads
from services.generation import snapshot_of
from services.models_info import context_note
from services.rendering import escape_markdown
from ui import scroll, state
from ui.endpoint_form import first_run
from ui.live import follow_live
from ui.messages import (
    TOOLBAR_STYLE, Actions, live_bubble_key, message_toolbar, needs_full_render, render_message, render_reply_footer,
    tools_key,
)
from ui.resources import current_user, runtime
from ui.code_panel import request_code
from ui.history import conversation_menu, history_sidebar
from ui.media import media_gate
from ui.settings_loader import move_draft, open_settings
from ui.sidebar import endpoint_and_model, presets_panel, refuse, settings_panel

HISTORY_WINDOW = 20
HISTORY_BOX_PX = 260

rt = runtime()
user = current_user(rt)
views = endpoints.list_views(rt, user)
if not views:
    first_run(rt, user)
    st.stop()
media = media_gate(rt, user, views)  # which hosts' images and videos load without asking
state.keep_settings(drawing=True)
state.reopen_after_other_page()
conversation_id = state.conversation_id()

conversation, path = conversations.load(rt, user, conversation_id)

not_found = conversation_id is not None and conversation is None
if not_found:
    conversation_id = None
opened = open_settings(rt, user, conversation_id, conversation)


def submit(value: ChatInputValue, settings: ChatSettings | None, errors: dict[str, str]) -> Turn:
    """Send what the input holds; on a refusal put the text back in the input and say why."""
    text = value.text or ""
    try:
        if settings is None:
            raise ChatError("params", refuse(errors))
        files = read_uploads([(f.name, f.getvalue()) for f in value.files], image_max_side=rt.settings.image_max_side)
        return chat.send_message(rt, user, conversation_id, text, settings, files)
    except (ChatError, AttachmentError) as exc:
        state.keep_draft(text)
        state.notify("chat", f"{exc} Your message is back in the input.")
        st.rerun()


# The page's parts, created in the same order on every run. A run that sends a message shows the reply's first
# words before it draws the sidebar and the title; until then the browser keeps what the previous run drew there
# (a container drawn where the previous run had one keeps its children until they are replaced).
st.html(TOOLBAR_STYLE)  # style only: it takes no place among the parts below
header, history_box = st.container(), st.container()
with st.bottom:
    stop_slot = st.empty()

# A submitted message is sent before anything is drawn: the reply starts while the page renders.
# The settings come from the widgets' values, which the previous run left in the session.
submitted = state.submitted_message()
early_params, early_errors = from_form(state.form_values()) if submitted else (None, {})
early_settings = state.current_settings(early_params) if early_params else None
turn = submit(submitted, early_settings, early_errors) if submitted else None
if turn is not None and turn.conversation_id != conversation_id:  # a new conversation: the page shows it from now on
    conversation_id = turn.conversation_id
    conversation = conversations.load(rt, user, conversation_id)[0]
    state.open_conversation(conversation_id)
    state.load_settings(conversation_id, None)
    move_draft(rt, user, conversation_id)


def act(settings: ChatSettings | None, action: Callable[[], object]) -> None:
    """Run a chat action from a button; a refusal is shown above the input instead of raising."""
    if settings is None:
        state.notify("chat", "A parameter in the sidebar is not valid: fix it first.")
        return
    try:
        action()
    except ChatError as exc:
        state.notify("chat", str(exc))


def actions_for(settings: ChatSettings | None) -> Actions:
    return Actions(
        retry=lambda message_id: act(settings, lambda: chat.retry(rt, user, message_id, settings)),
        choose=lambda message_id, index: act(settings, lambda: chat.choose_choice(rt, user, message_id, index)),
        continue_=lambda message_id: act(settings, lambda: chat.continue_reply(rt, user, message_id, settings)),
        tool_results=lambda message_id, results: act(
            settings, lambda: chat.submit_tool_results(rt, user, message_id, results, settings)
        ),
        toggle_details=state.toggle_details,
        switch=lambda message_id: conversations.switch_branch(rt, user, message_id),
        edit=lambda message_id, text: act(settings, lambda: chat.edit_and_resend(rt, user, message_id, text, settings)),
        fork=lambda message_id: state.open_conversation(conversations.fork(rt, user, message_id)),
        delete=lambda message_id: conversations.delete_message(rt, user, message_id),
        toggle_tools=state.toggle_tools,
    )


@dataclass
class Drawn:
    """What drawing the page gave: the settings its widgets hold and where the token count goes."""

    settings: ChatSettings | None
    counter: DeltaGenerator

    def show_token_count(self, messages: list) -> None:
        settings = self.settings
        self.counter.caption(context_note(settings.model if settings else "", settings.system_prompt if settings else "",
                                          messages))


def draw_history(settled: list, settings: ChatSettings | None) -> None:
    """The conversation so far, from the last HISTORY_WINDOW messages (more on request)."""
    with history_box:
        window = state.history_window(HISTORY_WINDOW)
        if len(settled) > window:
            if st.button(f"Show earlier messages ({len(settled) - window} more)", key="show_earlier", type="tertiary"):
                state.widen_history(HISTORY_WINDOW)
                st.rerun()
        actions = actions_for(settings)
        details, tools_open = state.details_open(), state.tools_open()
        siblings = conversations.sibling_groups(rt, user, conversation_id)
        for message in settled[-window:]:
            render_message(message, actions=actions, last=message is path[-1], details=message.id in details,
                           siblings=siblings.get(message.id, ()), tools_open=message.id == tools_open,
                           allow_remote_images=media)
        notice = state.take_notice("chat")
        if notice:
            st.error(notice)


def open_live_box() -> DeltaGenerator:
    """Where the last exchange goes: one of two slots, the other one each run, so that a new reply never shows the
    previous reply's blocks (its children there) meanwhile. Opened after the history, which takes them over."""
    slots = [st.empty(), st.empty()]
    return slots[state.next_live_slot()].container()


def draw_page(messages: list[Message]) -> Drawn:
    """The sidebar, the title row and the input: everything but the conversation (`messages`, for the token count)."""
    with st.sidebar:
        # The history scrolls in its own box, so the model and the parameters below it stay in view however many
        # conversations there are.
        with st.container(height=HISTORY_BOX_PX, border=False, key="conversation_list"):
            history_sidebar(rt, user, conversation_id)
        view = endpoint_and_model(user.id, views)
        presets_box = st.container()  # filled below, once the settings it saves are known
        params = settings_panel()
    settings = state.current_settings(params) if params is not None else None

    def save_preset(name: str) -> str | None:
        if settings is None:
            return "Fix the parameters first."
        try:
            presets.save_preset(rt, user, name, settings.system_prompt, settings.params)
        except presets.PresetError as exc:
            return str(exc)
        return None

    with presets_box:
        presets_panel(presets.list_presets(rt, user), on_save=save_preset,
                      on_delete=lambda preset_id: presets.delete_preset(rt, user, preset_id))
    if conversation is not None and settings is not None and settings != ChatSettings.of(conversation):
        chat.save_settings(rt, user, conversation.id, settings)

    with header:
        if not_found:
            st.warning("Conversation not found: it may have been deleted, or the link is wrong.")
        notice = state.take_notice("header")
        if notice:
            st.success(notice)
        title, menu, code_toggle = st.columns([8, 1, 2], vertical_alignment="bottom")
        title.subheader(escape_markdown(conversation.title) if conversation else NEW_CHAT_TITLE)
        if conversation is not None:
            with menu:
                conversation_menu(rt, user, conversation.id, conversation.title, conversation.pinned)
        code_toggle.button("Hide code" if state.show_code() else "View code", key="view_code",
                           on_click=state.toggle_code, icon=":material/code:", type="tertiary")
        if view is not None:
            st.caption(f"POST {view.chat_url}")
        if conversation is None:
            started = state.new_chat_preset()
            st.caption(f"New chat: started from the preset “{escape_markdown(started)}”." if started else
                       "New chat: started from your defaults (no system prompt, no parameter set).")
        if state.show_code():
            request_code(rt, user, conversation_id, settings)

    draft = state.take_draft()
    if draft is not None:
        state.set_value(state.chat_input_key(), draft)
    state.chat_input_for(conversation_id)
    with st.bottom:
        st.chat_input("Message (attach images, text, code or PDF files)", key=state.chat_input_key(),
                      accept_file="multiple", file_type=list(ACCEPTED_TYPES))
        drawn = Drawn(settings, st.empty())
    drawn.show_token_count(messages)
    return drawn


def follow(live: Message, drawn: Drawn | None, draw: Callable[[], Drawn] | None = None) -> None:
    """Show the streaming reply until it ends, then what goes under it. Without `drawn`, `draw` draws the rest of
    the page once the reply's first words are shown."""
    stop_slot.button("Stop generating", key="stop_generation", on_click=rt.registry.stop, args=(live.id,),
                     icon=":material/stop_circle:")
    slot = live_box.empty()
    bubble = slot.container(key=live_bubble_key(live.id)).chat_message("assistant")
    parts = [drawn] if drawn is not None else []
    follow_live(lambda: snapshot_of(rt.registry, rt.db, live.id), bubble, choices=(live.request or {}).get("n") or 1,
                allow_remote_images=media,
                on_first_words=(lambda: parts.append(draw())) if draw is not None else None)
    stop_slot.empty()
    finished = conversations.message(rt, user, live.id)
    if finished is None:
        return
    page = parts[-1]
    actions = actions_for(page.settings)
    siblings = conversations.sibling_groups(rt, user, finished.conversation_id).get(finished.id, ())
    if needs_full_render(finished):  # replace the live view by the finished reply: tabs, tools, badges
        slot.empty()  # drawn after it, not in its place: a container there would keep the live view's children
        with live_box:
            render_message(finished, actions=actions, last=True, siblings=siblings,
                           allow_remote_images=media)
    else:  # the streamed text is the reply: add what goes under it
        with bubble:
            render_reply_footer(finished, actions=actions, last=True, details=False)
        with live_box:
            message_toolbar(finished, actions, siblings, tools_open=False)
    page.show_token_count([*settled, finished])


live = path[-1] if path and path[-1].status == "streaming" else None
settled = path[:-1] if live else path
if turn is None:
    drawn = draw_page(path)
    draw_history(settled, drawn.settings)
    live_box = open_live_box()
    just_opened = state.take_tools_just_opened()
    scroll.draw(scroll.to_bottom(conversation_id) if opened and path and conversation_id else
                scroll.into_view(tools_key(just_opened)) if just_opened else None)
    if live is not None:
        follow(live, drawn)
else:
    # The conversation and the sent message first, then the reply's first words, then the rest of the page.
    draw_history(settled, early_settings)
    live_box = open_live_box()
    scroll.draw(scroll.follow_new(turn.assistant_message_id))
    live = conversations.message(rt, user, turn.assistant_message_id)
    asked = conversations.message(rt, user, live.parent_id) if live else None
    if asked is not None:
        with live_box:
            render_message(asked, actions=actions_for(early_settings), allow_remote_images=media)
        settled = [*settled, asked]
    if live is None:  # deleted meanwhile (another tab)
        draw_page(settled)
    else:
        follow(live, None, draw=lambda: draw_page(settled))
