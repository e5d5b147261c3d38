"""API keys at rest: encrypted with the server secret, shown only masked, and the secret file itself."""

from __future__ import annotations

import stat
import string
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from services.keys import SECRET_FILE_NAME, KeyBox, load_or_create_secret, mask_key

API_KEY = "sk-proj-Zx81qLm0Vb7TtR2yWc4nHs9K"


def test_keybox_round_trip() -> None:
    box = KeyBox("server-secret")
    token = box.encrypt(API_KEY)
    assert box.decrypt(token) == API_KEY
    assert KeyBox("server-secret").decrypt(token) == API_KEY  # the same secret after a restart


def test_token_from_another_secret_or_garbage_decrypts_to_none() -> None:
    token = KeyBox("old-secret").encrypt(API_KEY)
    assert KeyBox("new-secret").decrypt(token) is None
    assert KeyBox("new-secret").decrypt("not a token") is None
    assert KeyBox("new-secret").decrypt("") is None


def test_ciphertext_does_not_contain_the_key() -> None:
    token = KeyBox("server-secret").encrypt(API_KEY)
    assert API_KEY not in token
    assert API_KEY[-8:] not in token


# --- masking -----------------------------------------------------------------------------------------------


def test_mask_shows_prefix_and_last_four() -> None:
    assert mask_key(API_KEY) == "sk-…Hs9K"
    assert mask_key("abcdefghijkl") == "abc…ijkl"
    assert mask_key(None) == mask_key("") == "(none)"


@pytest.mark.parametrize("length", range(1, 41))
def test_mask_never_reveals_enough_to_use_a_key(length: int) -> None:
    key = (string.ascii_letters * 2)[:length]
    masked = mask_key(key)
    head, ellipsis, tail = masked.partition("…")
    assert ellipsis == "…"
    assert key.startswith(head) and key.endswith(tail)
    shown = len(head) + len(tail)
    assert shown <= 7  # at most a 3-character prefix and the last 4
    assert shown == 0 or length - shown >= 5, f"{masked!r} leaves only {length - shown} of {key!r} hidden"


# --- the server secret -------------------------------------------------------------------------------------


def test_secret_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = load_or_create_secret(None, data)
    path = data / SECRET_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert path.read_text().strip() == first
    assert load_or_create_secret(None, data) == first
    assert load_or_create_secret("", data) == first  # a blank setting is no setting
    assert [p.name for p in data.iterdir()] == [SECRET_FILE_NAME]  # no temp files left behind


def test_configured_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    assert load_or_create_secret("configured", tmp_path / "data") == "configured"
    assert not (tmp_path / "data").exists()
    load_or_create_secret(None, tmp_path / "data")
    assert load_or_create_secret("configured", tmp_path / "data") == "configured"


def test_concurrent_first_starts_agree_on_one_secret(tmp_path: Path) -> None:
    # Two processes starting on a fresh data folder must not read a half-written (empty) file, nor crash.
    for attempt in range(20):
        data = tmp_path / f"data{attempt}"
        start = threading.Barrier(8)

        def start_server(_: int) -> str:
            start.wait()
            return load_or_create_secret(None, data)

        with ThreadPoolExecutor(8) as pool:
            seen = set(pool.map(start_server, range(8)))
        assert seen == {(data / SECRET_FILE_NAME).read_text().strip()}
        assert "" not in seen
