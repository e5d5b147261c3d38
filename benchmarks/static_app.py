"""The floor for the browser's work: the benchmark's answer drawn once, as finished text, when a message is sent.

Whatever a chat does while a reply streams, the page ends up drawing this markdown (paragraphs, lists, highlighted
code blocks); what this page costs the browser is what any Streamlit app pays for the answer, streaming aside.
STATIC_ANSWER_FILE names the file holding the answer. With STATIC_AFTER_STREAM=1 the page first reads the same
request's stream from OPENAI_BASE_URL to its end, showing nothing meanwhile: the concurrency scenario's floor, a
chat that waits for the whole reply and draws it once.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import streamlit as st

ANSWER = Path(os.environ["STATIC_ANSWER_FILE"]).read_text()


def read_stream() -> None:
    body = {"model": os.environ["OPENAI_MODEL"], "messages": [{"role": "user", "content": "go"}], "stream": True}
    headers = {"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"}
    url = os.environ["OPENAI_BASE_URL"].rstrip("/") + "/chat/completions"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as response:
        for _ in response.iter_bytes():
            pass


prompt = st.chat_input("Message")
if prompt:
    with st.chat_message("user"):
        st.markdown(prompt)
    if os.environ.get("STATIC_AFTER_STREAM") == "1":
        read_stream()
    with st.chat_message("assistant"):
        st.markdown(ANSWER)
