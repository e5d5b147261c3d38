"""Which settings the chat's fields show when a conversation opens, and the draft that keeps what was typed."""

from __future__ import annotations

from db.models import Conversation, User
from services import drafts, presets
from services.chat import ChatSettings
from services.new_chat import new_chat_settings
from services.runtime import Runtime
from ui import state

def open_settings(rt: Runtime, user: User, conversation_id: int | None, conversation: Conversation | None) -> bool:
    """Fill the fields when another conversation (or a new chat) opens, and keep what they hold as the user's
    draft, before anything is drawn: a reload after a crash gives back what was typed. True when the fields were
    (re)filled this run."""
    opened = state.settings_need_loading(conversation_id)  # a first load, or another conversation than last run
    typed = drafts.draft_for(rt, user, conversation_id) if opened and state.session_is_new() else None
    if typed is not None:
        state.load_typed(conversation_id, typed)
    elif opened and conversation is not None:
        state.load_settings(conversation_id, ChatSettings.of(conversation))
    elif opened:
        preset = state.picked_preset(presets.list_presets(rt, user))
        state.load_new_chat(new_chat_settings(state.value(state.ENDPOINT), state.value(state.MODEL) or "", preset),
                            preset.name if preset else None)
    typed = state.typed_settings()
    if state.draft_changed(conversation_id, typed):
        _save_draft(rt, user, conversation_id, typed)
    return opened


def move_draft(rt: Runtime, user: User, conversation_id: int) -> None:
    """A new chat's first message made it a conversation: its draft now belongs to that conversation."""
    typed = state.typed_settings()
    if state.draft_changed(conversation_id, typed):
        _save_draft(rt, user, conversation_id, typed)


def _save_draft(rt: Runtime, user: User, conversation_id: int | None, typed: drafts.TypedSettings) -> None:
    if not drafts.save_draft(rt, user, conversation_id, typed):
        state.forget_draft_saved()  # tried again on the next run
