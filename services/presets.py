"""Presets: named parameter sets (and system prompts) kept in the database; a few ship built in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from db.models import Preset, User
from services.params import ChatParams, ParameterError
from services.runtime import Runtime

BUILTIN_PRESETS: dict[str, tuple[str | None, dict]] = {
    "Precise": (None, {"temperature": 0.2}),
    "Balanced": (None, {"temperature": 0.7}),
    "Creative": (None, {"temperature": 1.2, "presence_penalty": 0.6}),
    "JSON": (
        "Answer with a single JSON object and nothing else.",
        {"temperature": 0.2, "response_format": "json_object"},
    ),
}


@dataclass(frozen=True)
class PresetView:
    """A preset as the sidebar lists it."""

    id: int
    name: str
    system_prompt: str | None
    params: ChatParams
    builtin: bool


class PresetError(ValueError):
    """A preset that cannot be saved; the message says why."""


def list_presets(runtime: Runtime, user: User) -> list[PresetView]:
    """The user's presets, built-in ones first; the built-ins are created on first use."""
    with runtime.db.read() as session:
        rows = list(session.scalars(select(Preset).where(Preset.user_id == user.id)))
    if not BUILTIN_PRESETS.keys() <= {row.name for row in rows}:
        with runtime.db.write() as session:
            names = set(session.scalars(select(Preset.name).where(Preset.user_id == user.id)))
            for name, (prompt, params) in BUILTIN_PRESETS.items():
                if name not in names:
                    session.add(Preset(user_id=user.id, name=name, system_prompt=prompt, params=params, builtin=True))
        return list_presets(runtime, user)
    views = []
    for row in sorted(rows, key=lambda p: (not p.builtin, p.name.lower())):
        try:
            params = ChatParams.from_dict(row.params)
        except ParameterError:
            continue  # a preset that no longer validates is not offered
        views.append(PresetView(row.id, row.name, row.system_prompt, params, row.builtin))
    return views


def save_preset(runtime: Runtime, user: User, name: str, system_prompt: str, params: ChatParams) -> None:
    """Save (or overwrite) a preset of the user's own; built-in names are taken."""
    name = name.strip()
    if not name:
        raise PresetError("Give the preset a name.")
    if len(name) > 100:
        raise PresetError("The name is too long (100 characters at most).")
    with runtime.db.write() as session:
        preset = session.scalar(select(Preset).where(Preset.user_id == user.id, Preset.name == name))
        # By name too: before the built-ins are first listed (and created), their rows do not exist yet.
        if name in BUILTIN_PRESETS or (preset is not None and preset.builtin):
            raise PresetError(f"“{name}” is a built-in preset: choose another name.")
        if preset is None:
            preset = Preset(user_id=user.id, name=name, builtin=False)
            session.add(preset)
        preset.system_prompt = system_prompt or None
        preset.params = params.to_dict()


def delete_preset(runtime: Runtime, user: User, preset_id: int) -> None:
    with runtime.db.write() as session:
        preset = session.get(Preset, preset_id)
        if preset is not None and preset.user_id == user.id and not preset.builtin:
            session.delete(preset)
