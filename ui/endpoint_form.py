"""The endpoint form (first run and the Endpoints page): errors appear under the field they concern."""

from __future__ import annotations

import streamlit as st

from db.models import User
from services import endpoints
from services.extra_headers import format_extra_headers
from services.endpoints import EndpointForm, EndpointFormError, EndpointView
from services.rendering import escape_markdown
from services.runtime import Runtime

BASE_URL_HELP = (
    "The API's base URL, as the openai SDK takes it: e.g. https://api.openai.com/v1 or http://localhost:11434/v1. "
    "https://host, https://host/ and the full …/v1/chat/completions are accepted too."
)
HEADERS_HELP = (
    "Extra HTTP headers sent with every request, one `Name: value` per line (some relays ask for e.g. X-Api-Key). "
    "Values are stored encrypted and shown masked: leave a masked line as it is to keep its value."
)


def endpoint_form(rt: Runtime, user: User, existing: EndpointView | None = None, *, first_run: bool = False) -> bool:
    """Render the form; returns True once an endpoint was saved."""
    suffix = existing.id if existing else "new"
    with st.form(key=f"endpoint_form_{suffix}", clear_on_submit=False, border=not first_run):
        name = st.text_input("Name", value=existing.name if existing else "My endpoint", key=f"ep_name_{suffix}")
        name_slot = st.empty()
        base_url = st.text_input(
            "Base URL", value=existing.base_url if existing else "", placeholder="https://api.openai.com/v1",
            help=BASE_URL_HELP, key=f"ep_base_{suffix}",
        )
        base_slot = st.empty()
        key_label = f"API key (stored: {existing.key_mask}; leave empty to keep it)" if existing else "API key"
        api_key = st.text_input(key_label, type="password", key=f"ep_key_{suffix}", placeholder="sk-…")
        headers = st.text_area(
            "Extra headers (optional)", value=format_extra_headers(existing.extra_headers) if existing else "",
            help=HEADERS_HELP, placeholder="X-Forwarded-Host: example.com", key=f"ep_headers_{suffix}", height=80,
        )
        headers_slot = st.empty()
        model = st.text_input(
            "Default model (optional)", value=(existing.default_model or "") if existing else "",
            placeholder="gpt-4o-mini", key=f"ep_model_{suffix}",
        )
        title_model = st.text_input(
            "Title model (optional)", value=(existing.title_model or "") if existing else "", key=f"ep_title_{suffix}",
            placeholder="gpt-4o-mini",
            help="Ask this (cheap) model for a short title after a conversation's first reply. "
            "Empty: the title is the first words of the first message.",
        )
        completion_tokens = st.checkbox(
            "Send max_tokens as max_completion_tokens", value=bool(existing and existing.max_completion_tokens),
            key=f"ep_mct_{suffix}", help="o-series and newer OpenAI models reject max_tokens and want this name.",
        )
        make_default = st.checkbox("Use as the default endpoint", value=first_run or bool(existing and existing.is_default), key=f"ep_default_{suffix}")
        left, right = st.columns(2)
        tested = left.form_submit_button("Test connection", use_container_width=True)
        saved = right.form_submit_button("Save endpoint", type="primary", use_container_width=True)
        result_slot = st.empty()

    if not (tested or saved):
        return False
    form = EndpointForm(name, base_url, api_key, headers, model, make_default, completion_tokens, title_model)
    slots = {"name": name_slot, "base_url": base_slot, "extra_headers": headers_slot}
    endpoint_id = existing.id if existing else None
    try:
        if tested:
            with st.spinner("Calling GET /models…"):
                # The model ids are whatever the address answered: shown literally, never as markdown.
                result_slot.success(escape_markdown(endpoints.test_connection(rt, user, form, endpoint_id)))
            return False
        endpoints.save(rt, user, form, endpoint_id)
        return True
    except EndpointFormError as exc:
        slots.get(exc.field, result_slot).error(str(exc))
    return False


def first_run(rt: Runtime, user: User) -> None:
    """What a new installation shows instead of the chat until an endpoint is saved."""
    st.subheader("Welcome to RelayChat")
    st.write(
        "Connect an OpenAI-compatible endpoint to start chatting: OpenAI, a relay service, or your own "
        "vLLM, llama.cpp, Ollama, LM Studio or LiteLLM server. The key is stored encrypted on this server and "
        "never sent back to the browser."
    )
    if endpoint_form(rt, user, first_run=True):
        st.rerun()
