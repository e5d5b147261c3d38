"""The naive Streamlit chat of issue 6, the benchmark's baseline: history from st.session_state, the reply through
st.write_stream over an httpx stream. Every token re-sends the whole answer so far.

    OPENAI_BASE_URL=... OPENAI_API_KEY=... OPENAI_MODEL=... streamlit run benchmarks/naive_app.py

NAIVE_HISTORY_JSON (optional) names a JSON list of {"role", "content"} that starts every session, so the
history benchmark can compare the same long conversation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import streamlit as st

BASE_URL = os.environ["OPENAI_BASE_URL"].rstrip("/")
API_KEY = os.environ.get("OPENAI_API_KEY", "")
MODEL = os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"


def stream_reply(messages: list[dict[str, str]]) -> Iterator[str]:
    body = {"model": MODEL, "messages": messages, "stream": True}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.stream("POST", f"{BASE_URL}/chat/completions", json=body, headers=headers, timeout=60) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line.removeprefix("data:").strip()
            if data == "[DONE]":
                break
            choices = json.loads(data).get("choices") or [{}]
            text = (choices[0].get("delta") or {}).get("content")
            if text:
                yield text


if "messages" not in st.session_state:
    history = os.environ.get("NAIVE_HISTORY_JSON")
    st.session_state.messages = json.loads(Path(history).read_text()) if history else []

for message in st.session_state.messages:
    with st.chat_message(message["role"]):
        st.markdown(message["content"])

if prompt := st.chat_input("Message"):
    st.session_state.messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        answer = st.write_stream(stream_reply(st.session_state.messages))
    st.session_state.messages.append({"role": "assistant", "content": answer})
