"""Server configuration from the environment or `.streamlit/secrets.toml`, and endpoint URL handling."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from services.media_policy import parse_hosts

DEFAULT_DATA_DIR = Path("data")
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_FIRST_TOKEN_TIMEOUT = 120.0
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_MAX_REPLY_MB = 4.0  # the longest replies models write (~128k tokens) are about 0.5 MB
DEFAULT_MAX_REPLY_TOKENS = 200_000
DEFAULT_REPLY_DEADLINE = 1800.0


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait: to connect, for the first bytes of an answer, and between chunks of a stream."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    first_token: float = DEFAULT_FIRST_TOKEN_TIMEOUT
    idle: float = DEFAULT_IDLE_TIMEOUT


@dataclass(frozen=True)
class ReplyLimits:
    """Bounds on one reply, so a runaway or hostile endpoint cannot stream forever or without end: its size in
    UTF-8 bytes (content, reasoning and tool arguments), its streamed pieces (tokens), and seconds in all."""

    max_bytes: int = int(DEFAULT_MAX_REPLY_MB * 1024 * 1024)
    max_tokens: int = DEFAULT_MAX_REPLY_TOKENS
    deadline: float = DEFAULT_REPLY_DEADLINE


@dataclass(frozen=True)
class Settings:
    """What the server reads at start: the optional configured endpoint, the database and the secret."""

    base_url: str | None
    api_key: str | None
    model: str | None
    database_url: str
    data_dir: Path
    secret_key: str | None
    timeouts: Timeouts
    # Privacy: markdown images from other hosts are fetched by the reader's browser; an admin may block them.
    allow_remote_images: bool = True
    # Hosts whose media load without asking, besides the endpoints' own (services/media_policy.py).
    media_hosts: frozenset[str] = frozenset()
    image_max_side: int = 1568
    reply_limits: ReplyLimits = ReplyLimits()


def load_settings(env: Mapping[str, str] | None = None, secrets: Mapping[str, object] | None = None) -> Settings:
    """Environment variables win over secrets.toml entries of the same name; a blank variable counts as unset."""
    env = os.environ if env is None else env
    secrets = secrets or {}

    def get(name: str) -> str | None:
        # Compose files pass unset variables on as empty strings: those must not hide secrets.toml.
        for raw in (env.get(name), secrets.get(name)):
            value = "" if raw is None else str(raw).strip()
            if value:
                return value
        return None

    data_dir = Path(get("RELAYCHAT_DATA_DIR") or DEFAULT_DATA_DIR)
    return Settings(
        base_url=get("OPENAI_BASE_URL"),
        api_key=get("OPENAI_API_KEY"),
        model=get("OPENAI_MODEL"),
        database_url=get("DATABASE_URL") or f"sqlite:///{data_dir / 'relaychat.db'}",
        data_dir=data_dir,
        secret_key=get("RELAYCHAT_SECRET_KEY"),
        timeouts=Timeouts(
            connect=_seconds(get("RELAYCHAT_CONNECT_TIMEOUT"), DEFAULT_CONNECT_TIMEOUT),
            first_token=_seconds(get("RELAYCHAT_FIRST_TOKEN_TIMEOUT"), DEFAULT_FIRST_TOKEN_TIMEOUT),
            idle=_seconds(get("RELAYCHAT_IDLE_TIMEOUT"), DEFAULT_IDLE_TIMEOUT),
        ),
        allow_remote_images=(get("RELAYCHAT_BLOCK_REMOTE_IMAGES") or "").lower() not in ("1", "true", "yes", "on"),
        media_hosts=parse_hosts(get("RELAYCHAT_MEDIA_HOSTS")),
        image_max_side=int(_seconds(get("RELAYCHAT_IMAGE_MAX_SIDE"), 1568)),
        reply_limits=ReplyLimits(
            max_bytes=int(_seconds(get("RELAYCHAT_MAX_REPLY_MB"), DEFAULT_MAX_REPLY_MB) * 1024 * 1024),
            max_tokens=int(_seconds(get("RELAYCHAT_MAX_REPLY_TOKENS"), DEFAULT_MAX_REPLY_TOKENS)),
            deadline=_seconds(get("RELAYCHAT_REPLY_DEADLINE"), DEFAULT_REPLY_DEADLINE),
        ),
    )


def _seconds(raw: str | None, default: float) -> float:
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    # inf would overflow the socket timeout (OverflowError at the first request); nan compares false anyway.
    return value if math.isfinite(value) and value > 0 else default


class BaseUrlError(ValueError):
    """A base URL that cannot be an API address; the message says why."""


_API_SUFFIXES = ("/chat/completions", "/completions", "/models")
# Only these hosts get plain http when no scheme is typed; `localhost.example.com` is a public name.
_LOCAL_HOST = re.compile(r"^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)(?=[:/?#]|$)", re.IGNORECASE)


def normalize_base_url(raw: str) -> str:
    """Turn what users paste (`https://host`, `https://host/`, `.../v1/chat/completions`) into the API base.

    The result is what the openai SDK takes as base_url: requests go to `{base}/chat/completions`.
    """
    text = (raw or "").strip()
    if not text:
        raise BaseUrlError("Enter the endpoint's base URL, e.g. https://api.openai.com/v1.")
    if "://" not in text:
        text = ("http://" if _LOCAL_HOST.match(text) else "https://") + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise BaseUrlError(f"The base URL must start with http:// or https:// (got {parts.scheme}://).")
    if not parts.hostname:
        raise BaseUrlError("The base URL has no host name.")
    try:
        parts.port  # parsed on access: raises for `host:80a` or `host:99999`
    except ValueError:
        raise BaseUrlError("The base URL's port must be a number from 0 to 65535.") from None
    path = parts.path.rstrip("/")
    for suffix in _API_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
            break
    if not path:
        path = "/v1"  # a bare host: every OpenAI-compatible server we know serves the API under /v1
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def chat_url(base_url: str) -> str:
    return _api_url(base_url, "/chat/completions")


def models_url(base_url: str) -> str:
    return _api_url(base_url, "/models")


def _api_url(base_url: str, route: str) -> str:
    # Append to the path, not the string: a query (Azure's `?api-version=...`) must stay at the end.
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + route))
