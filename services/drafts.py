"""The chat settings as the user last typed them, valid or not, kept in the database until they are sent.

A page that crashed and was reloaded, or a reload for any reason, starts a new browser session with nothing in it:
the draft gives back what was typed (a conversation's saved settings hold only valid values, a new chat has none).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from db.engine import WriteFailed
from db.models import SettingsDraft, User, utcnow
from services.params import FORM_DEFAULTS, SPECS, NumberSpec
from services.runtime import Runtime

log = logging.getLogger("relaychat.drafts")


@dataclass(frozen=True)
class TypedSettings:
    """What the setting fields hold: the endpoint, the model, the system prompt and the parameter fields as typed."""

    endpoint_id: int | None
    model: str
    system_prompt: str
    form: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"endpoint_id": self.endpoint_id, "model": self.model, "system_prompt": self.system_prompt,
                "form": self.form}

    @classmethod
    def from_json(cls, data: Any) -> TypedSettings:
        """Stored values read back; one of the wrong type (an older version, a hand edit) is its field's default."""
        data = data if isinstance(data, dict) else {}
        endpoint_id = data.get("endpoint_id")
        form = data.get("form") if isinstance(data.get("form"), dict) else {}
        return cls(
            endpoint_id if isinstance(endpoint_id, int) and not isinstance(endpoint_id, bool) else None,
            data.get("model") if isinstance(data.get("model"), str) else "",
            data.get("system_prompt") if isinstance(data.get("system_prompt"), str) else "",
            {field: form[field] if field in form and _fits(field, form[field]) else default
             for field, default in FORM_DEFAULTS.items()},
        )


def _fits(field: str, value: Any) -> bool:
    """A value the field's widget can hold."""
    if value is None:
        return FORM_DEFAULTS[field] is None
    if isinstance(SPECS.get(field), NumberSpec):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if FORM_DEFAULTS[field] is None:  # a choice: response_format, tool_choice
        return isinstance(value, str)
    return type(value) is type(FORM_DEFAULTS[field])


def save_draft(runtime: Runtime, user: User, conversation_id: int | None, typed: TypedSettings) -> bool:
    """Keep what was typed; False when the database refused (busy, full). A draft is a best-effort copy: it must
    never take the page down, nor a message sent in the same run."""
    try:
        with runtime.db.write() as session:
            draft = session.get(SettingsDraft, user.id)
            if draft is None:
                draft = SettingsDraft(user_id=user.id)
                session.add(draft)
            draft.conversation_id = conversation_id
            draft.settings = typed.to_json()
            draft.updated_at = utcnow()
    except WriteFailed as exc:
        log.warning("the settings draft was not saved: %s", exc)
        return False
    return True


def draft_for(runtime: Runtime, user: User, conversation_id: int | None) -> TypedSettings | None:
    """The user's draft if it was typed in this conversation (or, for None, in a new chat)."""
    with runtime.db.read() as session:
        draft = session.get(SettingsDraft, user.id)
        if draft is None or draft.conversation_id != conversation_id:
            return None
        return TypedSettings.from_json(draft.settings)
