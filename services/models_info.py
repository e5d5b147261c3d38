"""What we know of models without asking: context sizes of common ones, for the token counter."""

from __future__ import annotations

from collections.abc import Iterable

from db.models import Message
from services.rendering import estimate_tokens

# Longest prefix wins; relays often add vendor prefixes ("openai/gpt-4o"), so matching is on the last part.
CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "deepseek-chat": 128_000,
    "deepseek-reasoner": 128_000,
    "claude": 200_000,
    "gemini-1.5": 1_000_000,
    "gemini-2": 1_000_000,
    "qwen": 32_768,
    "llama-3": 128_000,
    "mistral": 32_768,
}


def context_window(model: str) -> int | None:
    name = model.rsplit("/", 1)[-1].lower()
    matches = [prefix for prefix in CONTEXT_WINDOWS if name.startswith(prefix)]
    return CONTEXT_WINDOWS[max(matches, key=len)] if matches else None


def conversation_tokens(system_prompt: str, path: Iterable[Message]) -> int:
    """An estimate of what the next request's messages weigh (text only; images are not counted)."""
    return estimate_tokens(system_prompt) + sum(
        estimate_tokens(m.content or "") + sum(estimate_tokens(a.get("text") or "") for a in m.attachments or ())
        for m in path
    )


def context_note(model: str, system_prompt: str, path: Iterable[Message]) -> str:
    tokens = conversation_tokens(system_prompt, path)
    window = context_window(model) if model else None
    if window is None:
        return f"≈ {tokens:,} tokens in this conversation (estimate)"
    return f"≈ {tokens:,} of {window:,} tokens of {model}'s context (estimate)"
