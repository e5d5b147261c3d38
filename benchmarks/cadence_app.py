"""A bare chat page that streams the benchmark's answer through RelayChat's own live view (ui.live.follow_live)
with the update cadence taken from the environment: what each cadence costs the browser, apart from the rest of the
app. The answer is released at CADENCE_RATE tokens per second by a timer; CADENCE_TAIL_INTERVAL and
CADENCE_FREEZE_CHARS override the live view's settings.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from benchmarks.answer import answer  # noqa: E402
from services.generation import Snapshot  # noqa: E402
from ui import live as messages  # noqa: E402

messages.TAIL_INTERVAL = float(os.environ["CADENCE_TAIL_INTERVAL"])
messages.FREEZE_CHARS = int(os.environ["CADENCE_FREEZE_CHARS"])
TOKENS, RATE, CHARS_PER_TOKEN = int(os.environ["CADENCE_TOKENS"]), float(os.environ["CADENCE_RATE"]), 4
TEXT = answer(TOKENS, CHARS_PER_TOKEN).text

prompt = st.chat_input("Message")
if prompt:
    with st.chat_message("user"):
        st.markdown(prompt)
    started = time.monotonic()

    def read() -> Snapshot:
        shown = min(len(TEXT), int((time.monotonic() - started) * RATE * CHARS_PER_TOKEN))
        return Snapshot(1, TEXT[:shown], "", "streaming" if shown < len(TEXT) else "complete")

    messages.follow_live(read, st.chat_message("assistant"))
