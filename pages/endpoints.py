"""Endpoints: the APIs you chat with. Keys are shown masked only."""

from __future__ import annotations

import streamlit as st

from services import endpoints
from ui import state
from ui.endpoint_form import endpoint_form
from ui.resources import current_user, runtime

rt = runtime()
user = current_user(rt)
views = endpoints.list_views(rt, user)

st.title("Endpoints")
if rt.config_error:
    st.error(rt.config_error)
notice = state.take_notice("endpoints")
if notice:
    st.success(notice)

for view in views:
    label = f"{'⭐ ' if view.is_default else ''}{view.name} — {view.base_url}"
    with st.expander(label, expanded=False):
        st.markdown(f"Requests go to `POST {view.chat_url}` · key `{view.key_mask}`")
        if view.from_config:
            st.info("Set by OPENAI_BASE_URL / OPENAI_API_KEY on the server: change it there.")
        else:
            if endpoint_form(rt, user, view):
                state.notify("endpoints", f"Saved “{view.name}”.")
                st.rerun()
        left, right = st.columns(2)
        if not view.is_default and left.button("Make default", key=f"default_{view.id}"):
            endpoints.make_default(rt, user, view.id)
            st.rerun()
        if not view.from_config:
            # Confirmed first, as deleting a conversation is: one stray click must not lose an endpoint and its key.
            sure = right.checkbox(f"Yes, delete “{view.name}”", key=f"confirm_delete_endpoint_{view.id}")
            if right.button("Delete endpoint", key=f"delete_{view.id}", icon=":material/delete:", disabled=not sure):
                endpoints.delete(rt, user, view.id)
                state.notify("endpoints", f"Deleted “{view.name}”.")
                st.rerun()

st.subheader("Add an endpoint")
if endpoint_form(rt, user):
    state.notify("endpoints", "Endpoint saved.")
    st.rerun()
