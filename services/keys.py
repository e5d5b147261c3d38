"""API keys at rest: encrypted with the server secret, and only ever shown masked."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

SECRET_FILE_NAME = "secret.key"


def load_or_create_secret(secret: str | None, data_dir: Path) -> str:
    """The configured secret, else the one generated into the data folder on first run."""
    if secret:
        return secret
    path = data_dir / SECRET_FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _publish(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def _publish(path: Path, secret: str) -> None:
    """Write the secret whole to a private temp file, then link it into place: the first writer wins, and a
    concurrent start (or a crash) never sees an empty, half-written file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600 from the start
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process got there first; everyone reads its secret
    finally:
        os.unlink(temp)


class KeyBox:
    """Encrypts and decrypts API keys with a key derived from the server secret."""

    def __init__(self, secret: str) -> None:
        derived = hashlib.sha256(("relaychat-api-keys:" + secret).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, api_key: str) -> str:
        return self._fernet.encrypt(api_key.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        """None when the token was made with another secret (the server secret changed)."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def mask_key(api_key: str | None) -> str:
    """`sk-…abcd`: enough to tell keys apart, never enough to use one."""
    if not api_key:
        return "(none)"
    if len(api_key) < 12:
        # The last 2 only when at least 5 stay hidden (as for long keys): "…ab" would be all of a 2-letter key.
        return "…" + api_key[-2:] if len(api_key) >= 7 else "…"
    prefix = api_key[:3]
    return f"{prefix}…{api_key[-4:]}"
