"""The floor for the browser's work: the benchmark's answer drawn once, as finished text, when a message is sent.

Whatever a chat does while a reply streams, the page ends up drawing this markdown (paragraphs, lists, highlighted
code blocks); what this page costs the browser is what any Streamlit app pays for the answer, streaming aside.
STATIC_ANSWER_FILE names the file holding the answer.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

ANSWER = Path(os.environ["STATIC_ANSWER_FILE"]).read_text()

prompt = st.chat_input("Message")
if prompt:
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        st.markdown(ANSWER)
