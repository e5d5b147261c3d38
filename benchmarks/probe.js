// Installed in every benchmark page before Streamlit's own scripts: watches the DOM for the reply being written.
// Times are performance.now() of this page, so submit -> first/last token needs no clock shared with Python.
(() => {
  if (window.__bench) return;
  const EXCLUDE = '[data-testid=stButton], [data-testid=stAlert], [data-testid=stExpander], '
    + '[data-testid=stCaptionContainer], [data-stale=true]';
  const alnum = s => s.replace(/[^0-9A-Za-z]+/g, '');
  const state = {
    armed: false, tail: '', length: 0, known: new WeakSet(), signature: null,
    submitAt: null, firstAt: null, tailAt: null, lastAt: null, changedAt: null, callbacks: 0, checkMs: 0,
  };

  // The reply: the last chat bubble, if it is an assistant's that was not on the page when we armed.
  function replyBubble() {
    const bubbles = document.querySelectorAll('[data-testid=stChatMessage]');
    const last = bubbles[bubbles.length - 1];
    if (!last || state.known.has(last)) return null;
    return last.querySelector('[data-testid=stChatMessageAvatarAssistant]') ? last : null;
  }

  // Letters and digits at the end of a node's text, read backwards only as far as needed: cheap on long replies.
  function tailOf(node, want) {
    if (node.nodeType === Node.TEXT_NODE) return alnum(node.data);
    let text = '';
    for (let child = node.lastChild; child && text.length < want; child = child.previousSibling) {
      text = tailOf(child, want - text.length) + text;
    }
    return text;
  }

  function replyTail(bubble, want) {
    const boxes = bubble.querySelectorAll('[data-testid=stMarkdownContainer]');
    let text = '';
    for (let i = boxes.length - 1; i >= 0 && text.length < want; i--) {
      if (!boxes[i].closest(EXCLUDE)) text = tailOf(boxes[i], want - text.length) + text;
    }
    return text;
  }

  function check() {
    state.callbacks++;
    const bubble = replyBubble();
    if (!bubble) return;
    const now = performance.now();
    // "Changed" means the reply's text moved on: a status animation elsewhere must not hide a stall.
    const signature = replyTail(bubble, 80);
    if (signature !== state.signature) Object.assign(state, {signature, changedAt: now});
    if (state.firstAt === null && replyTail(bubble, 1).length > 0) state.firstAt = now;
    if (state.tailAt === null && replyTail(bubble, state.tail.length + 8).endsWith(state.tail)) state.tailAt = now;
    // The last words can show before the whole text does (code blocks are highlighted asynchronously, after
    // the rest): "last token visible" is the whole answer in the DOM. Read in full only once the tail is there.
    if (state.tailAt !== null && replyTail(bubble, Infinity).length >= state.length) state.lastAt = now;
  }

  new MutationObserver(() => {
    if (!state.armed || state.lastAt !== null) return;
    const started = performance.now();
    check();
    state.checkMs += performance.now() - started;  // the probe's own cost, reported beside the page's CPU
  })
    .observe(document, {childList: true, subtree: true, characterData: true});

  // The submit time is taken in the capture phase, before Streamlit's own click handler runs.
  document.addEventListener('click', event => {
    if (state.armed && state.submitAt === null && event.target.closest('[data-testid=stChatInputSubmitButton]')) {
      state.submitAt = performance.now();
    }
  }, true);

  window.__bench = {
    arm(tail, length) {
      Object.assign(state, {armed: true, tail, length, submitAt: null, firstAt: null, tailAt: null, lastAt: null,
                           changedAt: null, signature: null, callbacks: 0, checkMs: 0});
      state.known = new WeakSet(document.querySelectorAll('[data-testid=stChatMessage]'));
    },
    read() {
      const app = document.querySelector('[data-testid=stApp]');
      return {
        submitAt: state.submitAt, firstAt: state.firstAt, tailAt: state.tailAt, lastAt: state.lastAt,
        changedAt: state.changedAt,
        now: performance.now(), callbacks: state.callbacks, checkMs: state.checkMs,
        scriptState: app ? app.dataset.testScriptState : null,
        connection: app ? app.dataset.testConnectionState : null,
      };
    },
    // True once the last chat bubble's text ends with `tail` and the script run is over (opening a conversation).
    lastBubbleShows(tail) {
      const bubbles = document.querySelectorAll('[data-testid=stChatMessage]');
      const last = bubbles[bubbles.length - 1];
      const app = document.querySelector('[data-testid=stApp]');
      const idle = app && app.dataset.testScriptState === 'notRunning';
      return Boolean(idle && last && replyTail(last, tail.length + 8).endsWith(tail));
    },
    // All the reply's letters and digits (once, at the end: how much of the answer the page shows).
    shownLength() {
      const bubble = replyBubble();
      return bubble ? replyTail(bubble, Infinity).length : 0;
    },
  };
})();
