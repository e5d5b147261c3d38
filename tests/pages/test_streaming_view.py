"""How often the live view rewrites a streaming reply's tail."""

from __future__ import annotations

from ui.live import TAIL_INTERVAL, tail_due


def test_first_words_are_shown_at_once_even_right_after_the_cursor():
    assert tail_due(None, 0.0)
    assert tail_due(" ▌", 0.01), "a bubble showing only the cursor must not make the first words wait"


def test_later_updates_wait_for_the_interval():
    assert not tail_due("Hello ▌", TAIL_INTERVAL / 2)
    assert tail_due("Hello ▌", TAIL_INTERVAL)
