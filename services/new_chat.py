"""What a new chat starts with: never the previous conversation's prompt and parameters."""

from __future__ import annotations

from services.chat import ChatSettings
from services.presets import PresetView


def new_chat_settings(endpoint_id: int | None, model: str, preset: PresetView | None) -> ChatSettings:
    """The endpoint and model in use, with the chosen preset's prompt and parameters, or none set."""
    if preset is None:
        return ChatSettings(endpoint_id, model)
    return ChatSettings(endpoint_id, model, preset.system_prompt or "", preset.params)
