"""Saving, checking and describing endpoints; keys are encrypted here and never leave masked-less."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from db import repository
from db.models import Endpoint, User
from services.chat import ChatError, endpoint_access
from services.client import ChatClient, EndpointAccess
from services.errors import EndpointConnectionError, EndpointReportedError, EndpointStatusError, RelayError
from services.config import BaseUrlError, chat_url, models_url, normalize_base_url
from services.extra_headers import decrypt_headers, encrypt_headers, mask_headers, parse_extra_headers
from services.keys import mask_key
from services.runtime import Runtime


class EndpointFormError(ValueError):
    """Bad input in the endpoint form; `field` names the input it belongs next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class EndpointForm:
    """What the user typed. An empty api_key on an existing endpoint keeps the stored key; so does an extra
    header left at its masked value."""

    name: str
    base_url: str
    api_key: str
    extra_headers: str
    default_model: str = ""
    make_default: bool = False
    max_completion_tokens: bool = False  # send max_tokens under the name o-series models require
    title_model: str = ""  # ask this model for conversation titles (empty: the first words make the title)


@dataclass(frozen=True)
class EndpointView:
    """An endpoint as the browser may see it: the key and the extra headers' values only masked."""

    id: int
    name: str
    base_url: str
    chat_url: str
    key_mask: str
    extra_headers: dict[str, str]
    default_model: str | None
    max_completion_tokens: bool
    title_model: str | None
    is_default: bool
    from_config: bool
    version: str

    @classmethod
    def of(cls, endpoint: Endpoint) -> EndpointView:
        return cls(
            id=endpoint.id,
            name=endpoint.name,
            base_url=endpoint.base_url,
            chat_url=chat_url(endpoint.base_url),
            key_mask=endpoint.api_key_mask or "(no key)",
            extra_headers=dict(endpoint.extra_headers or {}),
            default_model=endpoint.default_model,
            max_completion_tokens=endpoint.max_tokens_field == "max_completion_tokens",
            title_model=endpoint.title_model,
            is_default=endpoint.is_default,
            from_config=endpoint.source == "config",
            version=endpoint.updated_at.isoformat() if endpoint.updated_at else "",
        )


def list_views(runtime: Runtime, user: User) -> list[EndpointView]:
    with runtime.db.read() as session:
        return [EndpointView.of(e) for e in repository.list_endpoints(session, user)]


def _validated(runtime: Runtime, user: User, form: EndpointForm, endpoint_id: int | None) -> tuple[str, dict[str, str]]:
    """The base URL and the headers to send: lines left at their mask get the stored values back."""
    if not form.name.strip():
        raise EndpointFormError("name", "Give the endpoint a name.")
    try:
        base_url = normalize_base_url(form.base_url)
    except BaseUrlError as exc:
        raise EndpointFormError("base_url", str(exc)) from None
    stored: dict[str, str] = {}
    if endpoint_id is not None:
        with runtime.db.read() as session:
            endpoint = repository.get_endpoint(session, user, endpoint_id)
            token, masks = (endpoint.extra_headers_encrypted, endpoint.extra_headers or {}) if endpoint else (None, {})
        plain = decrypt_headers(runtime.keybox, token)
        if plain is None and any(f"{name}: {mask}" in form.extra_headers for name, mask in masks.items() if mask):
            raise EndpointFormError(
                "extra_headers", "The stored header values cannot be decrypted (the server secret changed): type them again.")
        stored = plain or {}
    try:
        return base_url, parse_extra_headers(form.extra_headers, stored)
    except ValueError as exc:
        raise EndpointFormError("extra_headers", str(exc)) from None


def save(runtime: Runtime, user: User, form: EndpointForm, endpoint_id: int | None = None) -> EndpointView:
    base_url, headers = _validated(runtime, user, form, endpoint_id)
    key = form.api_key.strip()
    name = form.name.strip()
    with runtime.db.write() as session:
        endpoint_id = _saved_under(session, user, name, base_url, endpoint_id)
        endpoint = repository.save_endpoint(
            session,
            user,
            endpoint_id=endpoint_id,
            name=name,
            base_url=base_url,
            extra_headers=mask_headers(headers),
            extra_headers_encrypted=encrypt_headers(runtime.keybox, headers),
            default_model=form.default_model.strip() or None,
            api_key_encrypted=runtime.keybox.encrypt(key) if key else None,
            api_key_mask=mask_key(key) if key else None,
            keep_key=endpoint_id is not None and not key,
            make_default=form.make_default,
            max_tokens_field="max_completion_tokens" if form.max_completion_tokens else "max_tokens",
            title_model=form.title_model.strip() or None,
        )
        return EndpointView.of(endpoint)


def _saved_under(session: Session, user: User, name: str, base_url: str, endpoint_id: int | None) -> int | None:
    """The endpoint a Save updates: a second Save of the same new endpoint (a double click, a resubmitted form)
    updates the first rather than making a twin; a name another endpoint already has is refused."""
    for other in repository.list_endpoints(session, user):
        if other.id == endpoint_id or other.name.casefold() != name.casefold():
            continue
        if endpoint_id is None and other.base_url == base_url and other.source == "user":
            return other.id
        raise EndpointFormError("name", f"Name “{other.name}” is taken by another endpoint: choose another.")
    return endpoint_id


def test_connection(runtime: Runtime, user: User, form: EndpointForm, endpoint_id: int | None = None) -> str:
    """Call GET {base}/models with what the form holds; the answer in plain words (raises EndpointFormError)."""
    base_url, headers = _validated(runtime, user, form, endpoint_id)
    key = form.api_key.strip()
    if not key and endpoint_id is not None:
        with runtime.db.read() as session:
            stored = repository.get_endpoint(session, user, endpoint_id)
            if stored is not None and stored.api_key_encrypted:
                key = runtime.keybox.decrypt(stored.api_key_encrypted) or ""
                if not key:  # sending no key would come back as a puzzling 401
                    raise EndpointFormError(
                        "api_key", "The stored key cannot be decrypted (the server secret changed): type it again.")
    client = ChatClient(runtime.http, EndpointAccess(base_url, key or None, headers), runtime.settings.timeouts)
    try:
        models = client.list_models()
    except RelayError as exc:
        raise EndpointFormError("connection", f"Test failed: {failure_reason(exc)}") from None
    if not models:
        return f"Connected to {models_url(base_url)}: the endpoint answered but lists no models. Type the model name in the chat."
    shown = ", ".join(models[:8]) + (f" and {len(models) - 8} more" if len(models) > 8 else "")
    return f"Connected to {models_url(base_url)}: {len(models)} model(s) available — {shown}."


def failure_reason(exc: RelayError) -> str:
    """Why a test call failed, in our words only: the status and a short reason. The form can be pointed at any
    address the server reaches (an internal page, a metadata service): what answered is never quoted back."""
    if isinstance(exc, EndpointStatusError):
        hint = str(exc).split("\n", 1)[0].split(". ", 1)[0].rstrip(".")
        return f"HTTP {exc.status}. {hint}."
    if isinstance(exc, EndpointConnectionError):
        return str(exc)
    if isinstance(exc, EndpointReportedError):
        return "the address answered with an error object instead of a model list."
    return "the address answered, but not with an OpenAI-compatible model list (GET …/models)."


def list_models(runtime: Runtime, user_id: int, endpoint_id: int) -> tuple[list[str], str | None]:
    """The ids GET {base}/models lists for a saved endpoint, or why there are none (in words)."""
    with runtime.db.read() as session:
        user = session.get(User, user_id)
        endpoint = repository.get_endpoint(session, user, endpoint_id) if user else None
    if endpoint is None:
        return [], "The endpoint no longer exists."
    try:
        client = ChatClient(runtime.http, endpoint_access(endpoint, runtime.keybox), runtime.settings.timeouts)
        return client.list_models(), None
    except (RelayError, ChatError) as exc:
        return [], str(exc)


def delete(runtime: Runtime, user: User, endpoint_id: int) -> None:
    with runtime.db.write() as session:
        repository.delete_endpoint(session, user, endpoint_id)


def make_default(runtime: Runtime, user: User, endpoint_id: int) -> None:
    with runtime.db.write() as session:
        repository.set_default_endpoint(session, user, endpoint_id)

