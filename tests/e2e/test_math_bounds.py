"""Formulas cannot draw over the page: sizes beyond 20em are cut down before KaTeX draws them (a negative kern
cannot throw a rule over the sidebar either: Streamlit clips the message), measured in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from services.math_limits import MAX_EM
from tests.e2e.conftest import RunningApp
from tests.e2e.test_rich_replies import send, wait_for_reply
from tests.e2e.ui import assistant_bubbles, open_app
from tests.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e

HOSTILE_MATH = "\n\n".join([
    "A box $\\rule{9999em}{9999em}$ here.",
    "\\[ \\rule[-9999em]{1em}{1em} \\]",
    "Inline \\( \\kern-9999em \\rule{1em}{1em} \\) moved.",
    "$$\n\\hspace{9999cm}\\rule{2000pt}{1em}\n$$",
    "\\( \\raisebox{9999in}{x} \\) and a fair one \\( \\rule{2em}{0.5em} \\).",
    "Built from a macro: $\\def\\r#1{\\rule{#1em}{#1em}}\\r{9999}$ shown as its source.",
    "The end.",
])
# What each part of a formula draws, cut by the boxes that clip it (overflow other than visible), with the chat
# message's box and the font size, in CSS pixels.
MEASURE_JS = """bubble => {
  const visible = el => {
    let r = el.getBoundingClientRect(), box = {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    for (let a = el.parentElement; a; a = a.parentElement) {
      const style = getComputedStyle(a), c = a.getBoundingClientRect();
      if (style.overflowX !== 'visible') { box.left = Math.max(box.left, c.left); box.right = Math.min(box.right, c.right); }
      if (style.overflowY !== 'visible') { box.top = Math.max(box.top, c.top); box.bottom = Math.min(box.bottom, c.bottom); }
    }
    return {left: box.left, right: Math.max(box.left, box.right), width: Math.max(0, box.right - box.left),
            height: Math.max(0, box.bottom - box.top)};
  };
  const column = bubble.getBoundingClientRect();
  const em = parseFloat(getComputedStyle(bubble.querySelector('.katex')).fontSize);
  const boxes = [...bubble.querySelectorAll('.katex .rule')].map(visible);
  return {column: {left: column.left, right: column.right}, em, boxes,
          page: document.documentElement.scrollWidth, viewport: innerWidth};
}"""


def test_oversized_formulas_are_bounded_and_stay_in_their_message(app: RunningApp, page: Page, fake_openai: FakeOpenAI):
    fake_openai.enqueue(Reply(content=HOSTILE_MATH))
    open_app(page, app.url)
    send(page, "Draw me a box")
    wait_for_reply(page, "The end.")
    reply = assistant_bubbles(page).last
    expect(reply.locator(".katex")).to_have_count(6)
    expect(reply.locator(".katex-error")).to_have_count(0)  # bounded, still valid TeX
    expect(reply.locator("code", has_text="\\r{9999}")).to_have_count(1)

    drawn = reply.evaluate(MEASURE_JS)
    limit = MAX_EM * drawn["em"] * 1.25  # a rule of MAX_EM, in KaTeX's slightly larger math font
    assert len(drawn["boxes"]) == 5, drawn
    for box in drawn["boxes"]:
        assert box["width"] <= limit and box["height"] <= limit, (box, limit)
        if box["width"]:  # what is drawn at all is drawn inside the message, not over the sidebar
            assert drawn["column"]["left"] <= box["left"] and box["right"] <= drawn["column"]["right"], (box, drawn)
    assert any(box["width"] > 0 for box in drawn["boxes"][-1:]), "the fair rule is drawn"
    assert drawn["page"] <= drawn["viewport"], "nothing widens the page"
