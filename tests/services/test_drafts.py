"""The settings draft: what a user typed, kept per user and per conversation, read back safely."""

from __future__ import annotations

from db import repository
from services.drafts import TypedSettings, draft_for, save_draft
from services.params import FORM_DEFAULTS


def typed(**form) -> TypedSettings:
    return TypedSettings(1, "fake-gpt", "Be brief.", {**FORM_DEFAULTS, **form})


def users(runtime):
    with runtime.db.write() as session:
        return repository.ensure_user(session, "alice"), repository.ensure_user(session, "bob")


def test_a_draft_comes_back_for_its_conversation_and_its_user_only(runtime) -> None:
    alice, bob = users(runtime)
    half_typed = typed(temperature=0.4, tools='[{"type": "function"')  # invalid values are kept too
    save_draft(runtime, alice, None, half_typed)

    assert draft_for(runtime, alice, None) == half_typed
    assert draft_for(runtime, alice, 7) is None, "typed in a new chat, not in conversation 7"
    assert draft_for(runtime, bob, None) is None, "another user's draft is not there"

    save_draft(runtime, alice, 7, typed(max_tokens=64))
    assert draft_for(runtime, alice, 7) == typed(max_tokens=64), "one draft per user: the latest"
    assert draft_for(runtime, alice, None) is None


def test_stored_values_of_the_wrong_type_become_their_fields_defaults() -> None:
    restored = TypedSettings.from_json({
        "endpoint_id": "1", "model": 5, "system_prompt": None,
        "form": {"temperature": "hot", "n": True, "stop": ["x"], "stream": "yes", "response_format": "json_object",
                 "max_tokens": 64, "unknown": 1},
    })
    assert (restored.endpoint_id, restored.model, restored.system_prompt) == (None, "", "")
    assert restored.form == {**FORM_DEFAULTS, "response_format": "json_object", "max_tokens": 64}
    assert TypedSettings.from_json("not a dict") == TypedSettings(None, "", "", dict(FORM_DEFAULTS))
