"""Scrolling the page to where a reader expects to be, and the page's small behaviours that only a script can do.

Every script here is wrapped in its own function scope: the browser runs each new one in the page's global scope,
where a second top-level `const` of the same name is a SyntaxError ("Identifier 'main' has already been declared")
that silently skipped every script after the first of a page load.
"""

from __future__ import annotations

import json

import streamlit as st

JUMP_LABEL = "Jump to latest"

# Installed once per page load (the window keeps it across script runs and conversations):
# - follows the bottom of the chat while the page grows (a sent message, a streaming reply, highlighting, images)
#   as long as the reader is at the bottom; a scroll up by the reader stops it, and a "Jump to latest" button
#   (shown whenever the bottom is out of sight) or a scroll back to the bottom resumes it;
# - on a narrow screen, where the sidebar covers the chat, closes the sidebar once a conversation is picked;
# - copies a message's text with its copy button.
_VIEW = """
if (!window.relaychatView) {
  const view = window.relaychatView = {follow: true};
  const main = () => document.querySelector('[data-testid=stMain]');
  const atBottom = m => m.scrollHeight - m.scrollTop - m.clientHeight <= 48;
  const jump = document.createElement('button');
  jump.className = 'relaychat-jump'; jump.type = 'button'; jump.hidden = true;
  jump.textContent = '↓ %(label)s';
  document.body.appendChild(jump);
  const style = document.createElement('style');
  style.textContent = '.relaychat-jump{position:fixed;bottom:8.5rem;right:2rem;z-index:1000;padding:.35rem .9rem;'
    + 'border-radius:1rem;border:1px solid rgba(49,51,63,.2);background:#fff;color:inherit;font:inherit;'
    + 'font-size:.875rem;box-shadow:0 2px 6px rgba(0,0,0,.15);cursor:pointer}.relaychat-jump[hidden]{display:none}';
  document.head.appendChild(style);
  const show = () => { const m = main(); jump.hidden = !m || atBottom(m); };
  view.toBottom = () => {
    view.follow = true;
    const m = main();
    if (m) m.scrollTop = m.scrollHeight;
    show();
  };
  jump.addEventListener('click', view.toBottom);
  // Only the reader's own scrolling (wheel, touch, keys, the scrollbar) decides whether to follow: the page
  // also scrolls by itself as a rerun shrinks and regrows it, and into_view scrolls it on purpose.
  view.readerAt = -1e9;
  const reader = event => {
    const m = main();
    if (event.type === 'pointerdown' && event.target !== m) return;  // on the scrollbar, not on a button
    if (event.type === 'keydown' && event.target.closest && event.target.closest('input, textarea')) return;
    view.readerAt = performance.now();
  };
  for (const type of ['wheel', 'touchmove', 'keydown', 'pointerdown']) {
    document.addEventListener(type, reader, {capture: true, passive: true});
  }
  document.addEventListener('scroll', event => {
    const m = main();
    if (event.target !== m) return;
    if (performance.now() - view.readerAt < 1000) view.follow = atBottom(m);
    show();
  }, true);
  new MutationObserver(() => {
    const m = main();
    if (m && view.follow && !atBottom(m)) m.scrollTop = m.scrollHeight;
    show();
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  document.addEventListener('click', event => {
    const target = event.target.closest ? event.target : event.target.parentElement;
    const copy = target && target.closest('[class*="st-key-copy_"] button');
    if (copy) {
      const id = [...copy.closest('[class*="st-key-copy_"]').classList].find(c => c.startsWith('st-key-copy_')).slice(12);
      const bubble = document.querySelector(
        `.st-key-message_${id} [data-testid=stChatMessageContent], .st-key-live_reply_${id} [data-testid=stChatMessageContent]`);
      // The reply's text blocks (markdown, or code such as a JSON reply), not its buttons, notes or thinking.
      const blocks = '[data-testid=stMarkdownContainer], [data-testid=stCode]';
      const text = bubble ? [...bubble.querySelectorAll(blocks)]
        .filter(e => !e.parentElement.closest(blocks + ', [data-testid=stButton], [data-testid=stAlert], '
          + '[data-testid=stExpander], [data-testid=stCaptionContainer], [data-testid=stTabs] [hidden]'))
        .map(e => e.innerText.trim()).join('\\n\\n') : '';
      const fallback = () => {
        const box = document.createElement('textarea');
        box.value = text; document.body.appendChild(box); box.select(); document.execCommand('copy'); box.remove();
      };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).catch(fallback);
      else fallback();
      return;
    }
    const sidebar = document.querySelector('[data-testid=stSidebar]');
    const picked = target && target.closest('.st-key-new_chat button, [class*="st-key-open_"] button, [class*="st-key-hit_"] button');
    const m = main();
    if (!picked || !sidebar || !m || !sidebar.contains(picked)) return;
    // Beside the chat on a wide screen; over it on a narrow one, where it must get out of the way.
    if (sidebar.getBoundingClientRect().right > m.getBoundingClientRect().left + 1) {
      setTimeout(() => {
        const close = document.querySelector('[data-testid=stSidebarCollapseButton] button');
        if (close) close.click();
      }, 0);
    }
  }, true);
}
""" % {"label": JUMP_LABEL}


def to_bottom(conversation_id: int) -> str:
    """To the latest message, as a conversation opens; the page keeps to its end while code blocks are highlighted
    and images load (it grows after it is drawn), unless the reader scrolls up meanwhile."""
    return f"/* {conversation_id} */ window.relaychatView.toBottom();"


def follow_new(message_id: int) -> str:
    """A message was just sent: show it and follow its reply, wherever the reader was."""
    return f"/* sent {message_id} */ window.relaychatView.toBottom();"


def into_view(key: str) -> str:
    """The element drawn with `key` to the top of the view, below the page's top bar (the bottom of the view is
    under the chat input, and a tall element shows its beginning)."""
    # The reader is going up to it: stop following first, then wait for the element (it may render after this).
    return (f"window.relaychatView.follow = false; window.relaychatView.readerAt = -1e9; let tries = 40; const show = () => {{"
            f" const el = document.querySelector({json.dumps('.st-key-' + key)});"
            " if (el) { el.style.scrollMarginTop = '5rem'; el.scrollIntoView({block: 'start'}); }"
            " else if (tries-- > 0) setTimeout(show, 50); }; show();")


def script(action: str | None) -> str:
    """The page's script: the view's behaviours (installed once), then this run's action, each in its own scope."""
    return f"(() => {{{_VIEW}}})();" + (f"\n(() => {{ {action} }})();" if action else "")


def draw(action: str | None) -> None:
    """The page's one script element, drawn on every run at the same place so that it never shifts the layout;
    the browser runs its script when it changes. Only our own fixed scripts go in (no user or model text)."""
    st.html(f"<script>{script(action)}</script>", unsafe_allow_javascript=True)
