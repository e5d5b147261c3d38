"""The one module that touches st.session_state and st.query_params: every key, its default, its meaning."""

from __future__ import annotations

from typing import Any

import streamlit as st

from services import ids
from services.chat import ChatSettings
from services.drafts import TypedSettings
from services.params import FORM_DEFAULTS, ChatParams, to_form
from services.presets import PresetView

# Widget keys of the chat settings; the sidebar widgets are created with these keys.
ENDPOINT = "setting_endpoint"
MODEL = "setting_model"
SYSTEM_PROMPT = "setting_system_prompt"
PARAM_PREFIX = "setting_param_"

CHAT_INPUT = "chat_input"
PRESET_PICK = "preset_pick"
_CONVERSATION = "conversation_id"  # the open conversation; None = a new chat not saved yet
_LOADED = "settings_loaded_for"  # which conversation the settings were filled from
# The settings' values, kept apart from the widgets' keys: Streamlit deletes the keys of widgets that a run does not
# draw (any other page), and the settings must come back as the user left them.
_KEPT = "settings_kept"
_NOTICE = "notice"  # (where, text): a message to show once, next to where it belongs
_DRAFT = "draft_message"  # a message that could not be sent, offered back to the user
_LIST_LIMIT = "conversation_list_limit"
_UNSET = object()


def param_key(name: str) -> str:
    return PARAM_PREFIX + name


_PAGE_SHOWN = "page_shown"  # (the previous run's page, this run's page)


def arrive_at(page: str) -> None:
    """app.py tells which page this run shows."""
    st.session_state[_PAGE_SHOWN] = (st.session_state.get(_PAGE_SHOWN, (None, None))[1], page)


def came_from_another_page() -> bool:
    """This run shows the chat and the previous one another page (False for a session's first run)."""
    before, now = st.session_state.get(_PAGE_SHOWN, (None, None))
    return before is not None and before != now


def reopen_after_other_page() -> None:
    """Back on the chat from another page, whose links carry no ?c=: the conversation the user was in opens again."""
    if came_from_another_page() and "c" not in st.query_params and st.session_state.get(_CONVERSATION) is not None:
        st.query_params["c"] = str(st.session_state[_CONVERSATION])


_INPUT_FOR = "chat_input_for"  # the conversation the chat input was last drawn for (or switched to)


def chat_input_for(conversation_id: int | None) -> None:
    st.session_state[_INPUT_FOR] = conversation_id


def conversation_id() -> int | None:
    """The open conversation, following the URL (?c=ID) so reload, back and bookmarks land on it."""
    raw = st.query_params.get("c")
    wanted = ids.parse_id(raw)
    if raw and wanted is None:  # a malformed id (20 digits, "١٢"…) reads as one that was deleted
        wanted = ids.NO_ROW
    if submitted_message() is not None and _INPUT_FOR in st.session_state and wanted != st.session_state[_INPUT_FOR]:
        # A message typed under another conversation than the URL names: the browser sent a URL this session has
        # already replaced (New chat, a pick in the sidebar). The message goes where it was typed.
        open_conversation(st.session_state[_INPUT_FOR])
        return st.session_state[_CONVERSATION]
    if wanted != st.session_state.get(_CONVERSATION, _UNSET):
        st.session_state[_CONVERSATION] = wanted
    return st.session_state[_CONVERSATION]


def open_conversation(conversation_id: int | None) -> None:
    st.session_state[_CONVERSATION] = conversation_id
    st.session_state[_INPUT_FOR] = conversation_id  # what is typed from now on is for it
    st.session_state.pop(_HISTORY, None)
    if conversation_id is None:
        st.query_params.pop("c", None)
    else:
        st.query_params["c"] = str(conversation_id)


def _setting_keys() -> tuple[str, ...]:
    return (ENDPOINT, MODEL, SYSTEM_PROMPT, *(param_key(field) for field in FORM_DEFAULTS))


def keep_settings(*, drawing: bool = False) -> None:
    """Call first in every run, on every page: keeps what the setting widgets hold, and gives back to widgets whose
    keys Streamlit deleted (after another page) the values they had. `drawing`: this run draws the widgets. A key
    given back on another page no longer counts as a change when the widget is drawn, and the browser would show
    the widget's default: so the first run drawing them after another page gives every value back anew."""
    kept = st.session_state.setdefault(_KEPT, {})
    for key in _setting_keys():
        if key in st.session_state and not (drawing and came_from_another_page()):
            kept[key] = st.session_state[key]
        elif key in kept:
            st.session_state[key] = kept[key]


def settings_need_loading(conversation_id: int | None) -> bool:
    """True when the widgets still show another conversation's settings."""
    return st.session_state.get(_LOADED, _UNSET) != conversation_id


def load_settings(conversation_id: int | None, settings: ChatSettings | None) -> None:
    """Fill the setting widgets from a conversation's settings (None keeps the current values)."""
    st.session_state[_LOADED] = conversation_id
    if settings is None:
        return
    set_value(ENDPOINT, settings.endpoint_id)
    set_value(MODEL, settings.model or None)
    set_value(SYSTEM_PROMPT, settings.system_prompt)
    for field, value in to_form(settings.params).items():
        set_value(param_key(field), value)


def session_is_new() -> bool:
    """No settings were loaded in this browser session yet (a first visit, a reload)."""
    return _LOADED not in st.session_state


def typed_settings() -> TypedSettings:
    return TypedSettings(value(ENDPOINT), value(MODEL) or "", value(SYSTEM_PROMPT) or "", form_values())


def load_typed(conversation_id: int | None, typed: TypedSettings) -> None:
    st.session_state[_LOADED] = conversation_id
    set_value(ENDPOINT, typed.endpoint_id)
    set_value(MODEL, typed.model or None)
    set_value(SYSTEM_PROMPT, typed.system_prompt)
    for field, field_value in typed.form.items():
        set_value(param_key(field), field_value)


_DRAFT_SAVED = "settings_draft_saved"  # (conversation id, TypedSettings) as last written to the database


def draft_changed(conversation_id: int | None, typed: TypedSettings) -> bool:
    """True (once) when the fields hold something other than the draft last saved from this session."""
    if st.session_state.get(_DRAFT_SAVED) == (conversation_id, typed):
        return False
    st.session_state[_DRAFT_SAVED] = (conversation_id, typed)
    return True


def forget_draft_saved() -> None:
    st.session_state.pop(_DRAFT_SAVED, None)


_NEW_CHAT_PRESET = "new_chat_preset"  # the preset the open new chat started from (None: the defaults)


def load_new_chat(settings: ChatSettings, preset_name: str | None) -> None:
    load_settings(None, settings)
    st.session_state[_NEW_CHAT_PRESET] = preset_name


def new_chat_preset() -> str | None:
    return st.session_state.get(_NEW_CHAT_PRESET)


def section_key(title: str) -> str:
    return "section_" + "_".join(title.lower().split())


def open_section(title: str) -> None:
    st.session_state[section_key(title)] = True


def value(key: str) -> Any:
    """A widget's value as the session holds it (None before the widget first ran)."""
    return st.session_state.get(key)


def set_value(key: str, value: Any) -> None:
    st.session_state[key] = value
    if key in _setting_keys():
        st.session_state.setdefault(_KEPT, {})[key] = value


def form_values() -> dict[str, Any]:
    """The parameter widgets' values as typed (validated by services.params.from_form); defaults filled in."""
    for field, default in FORM_DEFAULTS.items():
        if param_key(field) not in st.session_state:
            set_value(param_key(field), default)
    return {field: st.session_state[param_key(field)] for field in FORM_DEFAULTS}


def current_settings(params: ChatParams) -> ChatSettings:
    return ChatSettings(
        endpoint_id=st.session_state.get(ENDPOINT),
        model=(st.session_state.get(MODEL) or "").strip(),
        system_prompt=st.session_state.get(SYSTEM_PROMPT) or "",
        params=params,
    )


def notify(where: str, text: str) -> None:
    st.session_state[_NOTICE] = (where, text)


def take_notice(where: str) -> str | None:
    notice = st.session_state.get(_NOTICE)
    if notice and notice[0] == where:
        del st.session_state[_NOTICE]
        return notice[1]
    return None


_INPUT_KEY = "chat_input_key"  # which of two keys the chat input has


def chat_input_key() -> str:
    return st.session_state.get(_INPUT_KEY, CHAT_INPUT)


def keep_draft(text: str) -> None:
    st.session_state[_DRAFT] = text
    # The browser fills the chat input only with a value other than the one it was last given, so a message refused
    # twice came back empty. Under the other key the input is a new one, which takes any value.
    st.session_state[_INPUT_KEY] = CHAT_INPUT + "_again" if chat_input_key() == CHAT_INPUT else CHAT_INPUT


def take_draft() -> str | None:
    return st.session_state.pop(_DRAFT, None)


def list_limit(step: int) -> int:
    return st.session_state.setdefault(_LIST_LIMIT, step)


def show_more(step: int) -> None:
    st.session_state[_LIST_LIMIT] = list_limit(step) + step


_HISTORY = "history_window"  # how many of the latest messages the page renders


def history_window(step: int) -> int:
    return st.session_state.setdefault(_HISTORY, step)


def widen_history(step: int) -> None:
    st.session_state[_HISTORY] = history_window(step) + step


_DETAILS = "details_open"  # ids of replies whose inspector is open
_SHOW_CODE = "show_code"


def details_open() -> set[int]:
    return st.session_state.setdefault(_DETAILS, set())


def toggle_details(message_id: int) -> None:
    details_open().symmetric_difference_update({message_id})


def show_code() -> bool:
    return bool(st.session_state.get(_SHOW_CODE))


def toggle_code() -> None:
    st.session_state[_SHOW_CODE] = not show_code()


def picked_preset(presets: list[PresetView]) -> PresetView | None:
    """The preset the user last applied from the picker, if it is still there."""
    return next((preset for preset in presets if preset.name == st.session_state.get(PRESET_PICK)), None)


def apply_preset(system_prompt: str | None, params: ChatParams) -> None:
    """Put a preset's values into the setting widgets (call from a callback, before they render)."""
    if system_prompt is not None:
        set_value(SYSTEM_PROMPT, system_prompt)
    for field, value in to_form(params).items():
        set_value(param_key(field), value)


_DELETED = "recently_deleted"  # (id, title) of the conversation that Undo would restore


def remember_deleted(conversation_id: int, title: str) -> None:
    st.session_state[_DELETED] = (conversation_id, title)


def recently_deleted() -> tuple[int, str] | None:
    return st.session_state.get(_DELETED)


def forget_deleted() -> None:
    st.session_state.pop(_DELETED, None)


_TOOLS_OPEN = "message_tools_open"  # the message whose tools row is open
_TOOLS_JUST_OPENED = "message_tools_just_opened"


def tools_open() -> int | None:
    return st.session_state.get(_TOOLS_OPEN)


def toggle_tools(message_id: int) -> None:
    opened = None if tools_open() == message_id else message_id
    st.session_state[_TOOLS_OPEN] = st.session_state[_TOOLS_JUST_OPENED] = opened


def take_tools_just_opened() -> int | None:
    """The message whose tools row the click before this run opened, once (to bring it into view)."""
    return st.session_state.pop(_TOOLS_JUST_OPENED, None)


_LIVE_SLOT = "live_slot"  # which of the chat page's two live-reply slots this run uses


def next_live_slot() -> int:
    """0 or 1, the other one than the previous run's."""
    slot = 1 - st.session_state.get(_LIVE_SLOT, 1)
    st.session_state[_LIVE_SLOT] = slot
    return slot


def submitted_message() -> Any:
    """What the chat input sent in the click that started this run (a ChatInputValue), else None."""
    value = st.session_state.get(chat_input_key())
    return value if value and (getattr(value, "text", None) or getattr(value, "files", None)) else None


_IMPORTED = "imported_files"  # fingerprints of the files this session imported: a double click imports once


def was_imported(fingerprint: str) -> bool:
    return fingerprint in st.session_state.get(_IMPORTED, ())


def mark_imported(fingerprint: str, imported: bool = True) -> None:
    done = set(st.session_state.get(_IMPORTED, ()))
    st.session_state[_IMPORTED] = done | {fingerprint} if imported else done - {fingerprint}


_LOADED_MEDIA = "media_loaded"  # URLs of media from untrusted hosts this reader clicked "Load" for


def loaded_media() -> frozenset[str]:
    return frozenset(st.session_state.get(_LOADED_MEDIA, ()))


def load_media(url: str) -> None:
    st.session_state[_LOADED_MEDIA] = loaded_media() | {url}
