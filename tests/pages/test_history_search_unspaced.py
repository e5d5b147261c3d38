"""Searching the sidebar history in Chinese, Japanese and Korean, as a user types it (AppTest)."""

from __future__ import annotations

from tests.pages.test_history_page import open_id, seed


def test_chinese_search_finds_words_inside_sentences_and_highlights_them(configured, open_app):
    open_app()
    (lottery,) = seed(["活动策划"], "我们做一个抽奖系统，中奖的期望值要算清楚。")
    seed(["カタカナの練習"], "検索を합니다")
    at = open_app()

    at.text_input(key="history_query").set_value("期望").run()
    assert not at.exception
    assert at.button(key="hit_0").label == "活动策划"
    assert not [b for b in at.sidebar.button if b.key == "hit_1"], "the other conversation does not match"
    assert "我们做一个抽奖系统，中奖的**期望**值要算清楚。" in [c.value for c in at.sidebar.caption]

    at.text_input(key="history_query").set_value("抽奖 系统").run()
    assert at.button(key="hit_0").label == "活动策划"
    at.button(key="hit_0").click().run()
    assert open_id(at) == str(lottery)

    at.text_input(key="history_query").set_value("練習").run()
    assert at.button(key="hit_0").label == "カタカナの練習"  # a title, found by the middle of it
    assert "カタカナの**練習**" in [c.value for c in at.sidebar.caption]
