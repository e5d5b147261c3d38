"""Which images and videos in a reply load in the reader's browser without asking.

A reply's media are fetched by the reader's browser, so a prompt-injected reply can put private text in a media
URL and have it sent to any host as the reply renders (OWASP LLM Top 10, LLM05). Media load at once only from
hosts already trusted: the user's endpoints (a relay's sora-2 video), the hosts the operator lists
(RELAYCHAT_MEDIA_HOSTS) and those the user chose to "always load"; any other waits for a click.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from db import media_hosts
from db.engine import WriteFailed
from db.models import User

if TYPE_CHECKING:  # services.runtime reads the settings, which use parse_hosts below
    from services.runtime import Runtime

_DATA_IMAGE = re.compile(r"data:image/[a-z0-9.+-]+;base64,", re.I)
_IGNORED = re.compile(r"[\x00-\x20]")  # browsers drop these inside a URL before reading it
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def host_of(url: str) -> str | None:
    """The lower-case host a URL would be fetched from (`//host/x` and `\\\\host\\x` included); None when it
    names none (relative, data:, or not parseable)."""
    cleaned = _IGNORED.sub("", url).replace("\\", "/")
    if cleaned.startswith("//"):
        cleaned = "http:" + cleaned
    try:
        parts = urlsplit(cleaned)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return host.rstrip(".").lower()


def parse_hosts(text: str | None) -> frozenset[str]:
    """RELAYCHAT_MEDIA_HOSTS: host names, comma-separated; a pasted URL counts as its host."""
    hosts = set()
    for item in (text or "").split(","):
        item = item.strip()
        if item:
            hosts.add(host_of(item if "/" in item else f"//{item}") or item.lower())
    return frozenset(hosts)


@dataclass(frozen=True)
class MediaPolicy:
    """Where media may load from without a click, for one reader; callable as `policy(url) -> bool`."""

    trusted_hosts: frozenset[str] = frozenset()
    block_all: bool = False  # RELAYCHAT_BLOCK_REMOTE_IMAGES: no remote media at all, not even on a click
    loaded: frozenset[str] = field(default_factory=frozenset)  # URLs this reader clicked "Load" for

    def allows(self, url: str) -> bool:
        if _DATA_IMAGE.match(url.strip()):
            return True  # inline bytes: nothing is fetched
        host = host_of(url)
        if host is None:  # a path on this app's own server is fetched from nowhere else; other schemes never load
            return not _SCHEME.match(_IGNORED.sub("", url))
        if self.block_all:
            return False
        return host in self.trusted_hosts or url in self.loaded

    __call__ = allows

    def may_ask(self, url: str) -> bool:
        """Whether the reader may load it with a click (nothing to ask when the operator blocks all)."""
        return not self.block_all and host_of(url) is not None


def media_policy(runtime: Runtime, user: User, endpoint_urls: Iterable[str], loaded: Iterable[str] = ()) -> MediaPolicy:
    """The reader's policy: the operator's hosts, the hosts of their endpoints and the hosts they always load."""
    with runtime.db.read() as session:
        saved = media_hosts.list_hosts(session, user)
    endpoints = {host for url in endpoint_urls if (host := host_of(url))}
    return MediaPolicy(
        trusted_hosts=frozenset(runtime.settings.media_hosts) | endpoints | frozenset(saved),
        block_all=not runtime.settings.allow_remote_images,
        loaded=frozenset(loaded),
    )


def always_load_from(runtime: Runtime, user: User, host: str) -> str | None:
    """Remember that this user's replies may load media from `host` without asking; why not, when the database
    refused (busy, full)."""
    try:
        with runtime.db.write() as session:
            media_hosts.add_host(session, user, host.strip().lower())
    except WriteFailed as exc:
        return f"{host} was not remembered: {exc}."
    return None
