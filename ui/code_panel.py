"""View code: the next request as curl, Python and JavaScript, from the same builder as the real call."""

from __future__ import annotations

import streamlit as st

from db.models import User
from services import chat
from services.chat import ChatError, ChatSettings
from services.codegen import as_curl, as_javascript, as_python
from services.runtime import Runtime

NEXT_MESSAGE = "(your next message)"


def request_code(rt: Runtime, user: User, conversation_id: int | None, settings: ChatSettings | None) -> None:
    with st.container(border=True, key="code_panel"):
        if settings is None:
            st.warning("Fix the parameters in the sidebar to see the request.")
            return
        try:
            preview = chat.preview_request(rt, user, conversation_id, NEXT_MESSAGE, settings)
        except ChatError as exc:
            st.warning(str(exc))
            return
        st.caption(f"The request sending a message now would make (the key is masked). Last message: “{NEXT_MESSAGE}”.")
        curl, python, javascript = st.tabs(["curl", "Python (httpx)", "JavaScript (fetch)"])
        curl.code(as_curl(preview), language="bash")
        python.code(as_python(preview), language="python")
        javascript.code(as_javascript(preview), language="javascript")
