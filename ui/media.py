"""Images and videos linked in a reply, and the placeholder that asks before one loads from an untrusted host."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import streamlit as st

from db.models import User
from services.endpoints import EndpointView
from services.media_policy import MediaPolicy, always_load_from, host_of, media_policy
from services.runtime import Runtime
from services.rendering import ImagePolicy, Media, escape_markdown, extract_media
from ui import state


@dataclass(frozen=True)
class MediaGate:
    """A reader's media policy plus what "always load from this host" does; passed where an ImagePolicy goes."""

    policy: MediaPolicy
    always_load_from: Callable[[str], None]

    def __call__(self, url: str) -> bool:
        return self.policy.allows(url)


def render_media(text: str, allow_remote_images: ImagePolicy = True, key: str = "") -> None:
    """The media a reply links to, below it (a markdown image the policy allows is shown by the markdown itself):
    those the policy allows, the others as a placeholder naming their host, with Load and "Always load from this host" (unless the operator blocks remote media)."""
    for media in extract_media(text):
        allowed = allow_remote_images(media.url) if callable(allow_remote_images) else (
            allow_remote_images or media.url.lower().startswith("data:"))
        if allowed and media.inline:
            continue  # a markdown image that may load: the markdown shows it where it is written
        if allowed:
            _show(media)
        else:
            _placeholder(media, allow_remote_images, key)


def _show(media: Media) -> None:
    if media.kind == "image":
        st.image(media.url, caption=escape_markdown(media.alt) if media.alt else None)
    else:
        st.video(media.url)
    if not media.url.startswith("data:"):
        st.caption(f"[Download]({media.url})")


def _placeholder(media: Media, allow_remote_images: ImagePolicy, key: str) -> None:
    host = host_of(media.url) or "another server"
    what = "An image" if media.kind == "image" else "A video"
    digest = hashlib.sha256(f"{key}\n{media.url}".encode()).hexdigest()[:16]
    with st.container(border=True, key=f"media_placeholder_{digest}"):
        icon = ":material/image:" if media.kind == "image" else ":material/movie:"
        label = f" ({escape_markdown(media.alt)})" if media.alt else ""
        st.caption(f"{icon} {what}{label} from **{escape_markdown(host)}** was not loaded: loading it tells that "
                   "server you are reading this reply.")
        if isinstance(allow_remote_images, MediaGate) and allow_remote_images.policy.may_ask(media.url):
            with st.container(horizontal=True):
                st.button("Load", key=f"load_media_{digest}", icon=":material/download:",
                          on_click=state.load_media, args=(media.url,))
                st.button(f"Always load from {escape_markdown(host)}", key=f"trust_host_{digest}", type="tertiary",
                          on_click=allow_remote_images.always_load_from, args=(host,))
        elif not isinstance(allow_remote_images, MediaGate) or allow_remote_images.policy.block_all:
            st.caption("Remote media are turned off on this server.")


def media_gate(rt: Runtime, user: User, views: Iterable[EndpointView]) -> MediaGate:
    """This reader's gate for this run: their endpoints' hosts, the operator's, theirs, and what they clicked."""
    policy = media_policy(rt, user, [view.base_url for view in views], state.loaded_media())
    return MediaGate(policy, lambda host: _always_load_from(rt, user, host))


def _always_load_from(rt: Runtime, user: User, host: str) -> None:
    problem = always_load_from(rt, user, host)
    if problem:
        state.notify("chat", problem)
