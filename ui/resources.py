"""Process-wide objects, built once and shared by every session (st.cache_resource)."""

from __future__ import annotations

import logging
import os
from typing import Any

import streamlit as st

from db import repository
from db.models import User
from services import endpoints
from services.config import Settings, load_settings
from services.runtime import Runtime, start_runtime
from services.storage_check import StorageError, check_storage

MODELS_TTL_SECONDS = 300


def _secrets() -> dict[str, Any]:
    try:
        return {key: st.secrets[key] for key in st.secrets}
    except Exception:  # no secrets.toml is the normal case, not an error
        return {}


def settings() -> Settings:
    return load_settings(os.environ, _secrets())


@st.cache_resource(show_spinner="Starting RelayChat…", on_release=lambda rt: rt.close())
def _runtime(settings: Settings) -> Runtime:
    check_storage(settings)
    return start_runtime(settings)


def runtime() -> Runtime:
    """The shared parts; if the data folder cannot be used, the page says which path and what to do, and stops
    (nothing is cached, so a reload after the fix starts normally)."""
    try:
        return _runtime(settings())
    except StorageError as exc:
        logging.getLogger("relaychat").error("cannot start: %s", exc)
        st.error(str(exc), icon=":material/folder_off:")
        st.stop()


def current_user(rt: Runtime) -> User:
    """The signed-in user; one local user until accounts arrive."""
    with rt.db.read() as session:
        user = repository.get_user(session)
    if user is None:
        with rt.db.write() as session:
            user = repository.ensure_user(session)
    return user


@st.cache_data(ttl=MODELS_TTL_SECONDS, show_spinner=False)
def model_ids(user_id: int, endpoint_id: int, version: str) -> tuple[list[str], str | None]:
    """The endpoint's models (cached for a few minutes per endpoint version), or the reason there are none."""
    return endpoints.list_models(runtime(), user_id, endpoint_id)
