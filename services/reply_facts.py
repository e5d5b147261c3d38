"""What the line under a reply says about it: how long it took, how fast it came, which limit cut it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.models_info import context_window

# A rate measured over less than this is noise: a stream that arrived in one read would show thousands of tokens/s.
MIN_RATE_WINDOW_MS = 100
# A prompt and reply this close to the model's context window filled it.
CONTEXT_FULL_SHARE = 0.95


def timing_facts(
    time_to_first_token_ms: int | None, duration_ms: int | None, completion_tokens: int | None
) -> list[str]:
    """E.g. "first token 420 ms", "total 2300 ms", "31.4 tokens/s": the rate only over the time tokens streamed
    (a whole, non-streamed answer has no first token, so it gets its total time and no rate)."""
    facts = []
    if time_to_first_token_ms is not None:
        facts.append(f"first token {time_to_first_token_ms} ms")
    if duration_ms is not None:
        facts.append(f"total {duration_ms} ms")
    if completion_tokens and duration_ms is not None and time_to_first_token_ms is not None:
        streaming_ms = duration_ms - time_to_first_token_ms
        if streaming_ms >= MIN_RATE_WINDOW_MS:
            facts.append(f"{completion_tokens / (streaming_ms / 1000):.1f} tokens/s")
    return facts


def length_note(request: Mapping[str, Any] | None, prompt_tokens: int | None, completion_tokens: int | None) -> str:
    """Why a reply ended with finish_reason "length", naming the limit that was hit."""
    request = request or {}
    for name in ("max_completion_tokens", "max_tokens"):
        if request.get(name) is not None:
            return (f"The reply was cut by {name} ({request[name]}) (finish_reason: length). "
                    f"Raise {name}, or Continue.")
    model = str(request.get("model") or "")
    window = context_window(model) if model else None
    used = (prompt_tokens or 0) + (completion_tokens or 0)
    if window and prompt_tokens is not None and used >= CONTEXT_FULL_SHARE * window:
        limit = f"the model's context window is full ({used:,} of {window:,} tokens)"
        advice = "Start a new conversation, or fork from an earlier message, to free the context."
    elif window and prompt_tokens is not None:
        limit = f"the endpoint's own limit on reply length ({used:,} of {model}'s {window:,} tokens were used)"
        advice = "Continue to get the rest."
    else:
        limit = "the model's context window filled up, or the endpoint applies its own limit on reply length"
        advice = "Continue, or start a new conversation if the context is full."
    return f"The reply was cut by a limit you did not set (no max_tokens was sent): {limit}. {advice}"
