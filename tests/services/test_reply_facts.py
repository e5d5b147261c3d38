"""The facts under a reply: which limit cut it, and a rate only where one was measured."""

from __future__ import annotations

from services.reply_facts import length_note, timing_facts


def test_a_known_model_far_from_its_window_was_cut_by_the_endpoints_own_limit():
    note = length_note({"model": "openai/gpt-4o"}, prompt_tokens=900, completion_tokens=4096)
    assert "the endpoint's own limit on reply length (4,996 of openai/gpt-4o's 128,000 tokens were used)" in note
    assert "Continue to get the rest." in note and "max_tokens (" not in note


def test_max_completion_tokens_is_named_when_that_is_what_was_sent():
    assert length_note({"model": "o3", "max_completion_tokens": 256}, 10, 256).startswith(
        "The reply was cut by max_completion_tokens (256)")


def test_a_reply_saved_before_the_fix_shows_no_rate_from_a_one_millisecond_window():
    # Whole answers used to be saved with their first token at the end: 7000 tokens/s over the 1 ms floor.
    assert timing_facts(326, 327, 7) == ["first token 326 ms", "total 327 ms"]
    assert timing_facts(100, 1100, 50) == ["first token 100 ms", "total 1100 ms", "50.0 tokens/s"]
