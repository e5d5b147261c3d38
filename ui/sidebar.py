"""The sidebar: conversations, and the settings a conversation is sent with."""

from __future__ import annotations

import streamlit as st

from db.models import Conversation
from services.endpoints import EndpointView
from services.params import PARAMETERS, ChatParams, ChoiceSpec, NumberSpec, ParameterError
from ui import state
from ui.resources import model_ids

CONVERSATIONS_PAGE = 30


def conversation_list(conversations: list[Conversation], current: int | None, has_more: bool) -> None:
    if st.button("New chat", icon=":material/add:", use_container_width=True, key="new_chat"):
        state.open_conversation(None)
        st.rerun()
    st.caption("Conversations")
    for conversation in conversations:
        selected = conversation.id == current
        if st.button(
            conversation.title or "Untitled",
            key=f"open_{conversation.id}",
            use_container_width=True,
            type="primary" if selected else "tertiary",
        ) and not selected:
            state.open_conversation(conversation.id)
            st.rerun()
    if has_more and st.button("Show more", key="more_conversations", type="tertiary"):
        state.show_more(CONVERSATIONS_PAGE)
        st.rerun()


def endpoint_and_model(user_id: int, views: list[EndpointView]) -> EndpointView | None:
    by_id = {view.id: view for view in views}
    if st.session_state.get(state.ENDPOINT) not in by_id:
        state.set_value(state.ENDPOINT, views[0].id)
    endpoint_id = st.selectbox(
        "Endpoint", list(by_id), format_func=lambda i: by_id[i].name, key=state.ENDPOINT,
        help="Manage endpoints on the Endpoints page.",
    )
    view = by_id[endpoint_id]
    models, problem = model_ids(user_id, view.id, view.version)
    current = st.session_state.get(state.MODEL)
    if not current:
        current = view.default_model or (models[0] if models else None)
        state.set_value(state.MODEL, current)
    options = sorted(set(models) | ({current} if current else set()))
    st.selectbox(
        "Model", options, key=state.MODEL, accept_new_options=True, placeholder="Type a model name",
        help="Listed from GET /models; type any other name and press Enter.",
    )
    if problem:
        st.caption(f"Could not list models: {problem} Type the model name instead.")
    elif not models:
        st.caption("The endpoint lists no models: type the model name.")
    if st.button("Refresh models", key="refresh_models", type="tertiary", icon=":material/refresh:"):
        model_ids.clear()
        st.rerun()
    return view


def settings_panel() -> ChatParams | None:
    """System prompt and parameters; returns them validated, or None after showing why they are not."""
    st.text_area("System prompt", key=state.SYSTEM_PROMPT, height=100, placeholder="You are a helpful assistant.")
    with st.expander("Parameters", expanded=True):
        st.caption("Empty = not set: the parameter is left out of the request.")
        state.set_if_missing(state.STREAM, True)
        st.toggle("stream", key=state.STREAM, help="Show the answer token by token as it is generated.")
        slots = {}
        for spec in PARAMETERS:
            key = state.param_key(spec.name)
            if isinstance(spec, NumberSpec):
                is_int = spec.kind == "int"
                st.number_input(
                    spec.name,
                    min_value=int(spec.minimum) if is_int else spec.minimum,
                    max_value=(int(spec.maximum) if is_int else spec.maximum) if spec.maximum is not None else None,
                    step=int(spec.step) if is_int else spec.step,
                    value=None,
                    key=key,
                    placeholder="not set",
                    help=spec.help,
                    format=None if is_int else "%.2f",
                )
            elif isinstance(spec, ChoiceSpec):
                st.selectbox(spec.name, spec.options, index=None, key=key, placeholder="not set", help=spec.help)
            slots[spec.name] = st.empty()
    try:
        params = ChatParams.from_dict(state.raw_params())
    except ParameterError as exc:
        slots.get(exc.field, st).error(exc.reason)
        return None
    for note in params.notes():
        slots["top_p"].info(note)
    return params
