"""The process-wide parts, built once at start: database (migrated), key box, HTTP client, generations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx

from db import repository
from db.engine import Database
from db.models import utcnow
from db.migrate import upgrade_to_head
from services.client import make_http_client
from services.config import BaseUrlError, Settings, normalize_base_url
from services.generation import GenerationRegistry
from services.keys import KeyBox, load_or_create_secret, mask_key

log = logging.getLogger("relaychat")

CONFIG_ENDPOINT_NAME = "From configuration"
NO_SIGN_IN_WARNING = (
    "RelayChat has no sign-in mode yet: anyone who can open it is its one local user (every conversation, every "
    "key). Keep it on 127.0.0.1 (server.address in .streamlit/config.toml); sharing it needs a sign-in mode "
    "(coming: RELAYCHAT_AUTH)."
)
DELETED_KEPT_FOR = timedelta(minutes=10)  # the undo window of a deleted conversation


@dataclass
class Runtime:
    """Shared by every browser session of the process; holds no per-user state."""

    settings: Settings
    db: Database
    keybox: KeyBox
    http: httpx.Client
    registry: GenerationRegistry
    config_error: str | None = None

    def close(self) -> None:
        self.registry.close()
        self.http.close()
        self.db.dispose()


def start_runtime(settings: Settings) -> Runtime:
    log.warning(NO_SIGN_IN_WARNING)
    db = Database(settings.database_url)
    keybox = KeyBox(load_or_create_secret(settings.secret_key, settings.data_dir))
    upgrade_to_head(db.engine, keybox)
    http = make_http_client(settings.timeouts)
    registry = GenerationRegistry(db, http, settings.timeouts, settings.reply_limits)
    runtime = Runtime(settings, db, keybox, http, registry)
    runtime.config_error = sync_config_endpoint(runtime)
    with db.write() as session:  # deleted conversations past their undo window (the page purges on delete too)
        repository.purge_deleted(session, older_than=utcnow() - DELETED_KEPT_FOR)
    interrupted = registry.interrupt_orphans()
    if interrupted:
        log.warning("marked %d reply(s) cut by a previous stop as interrupted", interrupted)
    return runtime


def sync_config_endpoint(runtime: Runtime) -> str | None:
    """Mirror OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL into the endpoint list; returns a config problem."""
    settings = runtime.settings
    if not settings.base_url:
        return None
    try:
        base_url = normalize_base_url(settings.base_url)
    except BaseUrlError as exc:
        return f"OPENAI_BASE_URL is not usable: {exc}"
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
        existing = repository.config_endpoint(session, user)
        repository.save_endpoint(
            session,
            user,
            endpoint_id=existing.id if existing else None,
            name=CONFIG_ENDPOINT_NAME,
            base_url=base_url,
            extra_headers=existing.extra_headers if existing else {},
            extra_headers_encrypted=existing.extra_headers_encrypted if existing else None,
            default_model=settings.model,
            api_key_encrypted=runtime.keybox.encrypt(settings.api_key) if settings.api_key else None,
            api_key_mask=mask_key(settings.api_key) if settings.api_key else None,
            source="config",
        )
    return None
