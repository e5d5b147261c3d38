"""Before start: can RelayChat write where its settings say it keeps data? If not, which path, and what to do.

Without this, a missing or read-only folder surfaces as sqlite3's "unable to open database file" or a
PermissionError deep in the start, which Streamlit shows as its generic redacted error box.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from services.config import Settings
from services.keys import SECRET_FILE_NAME


class StorageError(RuntimeError):
    """A data path the server cannot use; the message names the setting, the path and the fix."""


def check_storage(settings: Settings) -> None:
    """Raise StorageError for the first data path that cannot be used (created, written, or read)."""
    database = _sqlite_file(settings.database_url)
    default_database = database is not None and database.parent == settings.data_dir
    uses = [what for what, used in (("the database", default_database), ("the generated secret", settings.secret_key is None))
            if used]
    if uses:
        verb = "live" if len(uses) > 1 else "lives"
        _check_folder(settings.data_dir, f"RELAYCHAT_DATA_DIR (where {' and '.join(uses)} {verb})",
                      "Set RELAYCHAT_DATA_DIR to a folder the server's user can write, or give it write access.")
    if database is not None and not default_database:
        _check_folder(database.parent, "the folder of DATABASE_URL's SQLite file",
                      "Create that folder with write access for the server's user, or point DATABASE_URL elsewhere.")
    if database is not None and database.exists() and not (database.is_file() and os.access(database, os.R_OK | os.W_OK)):
        raise StorageError(
            f"The database file {database} cannot be read and written. Give the server's user read and write "
            "access to it (and to its folder: SQLite writes -wal and -shm files next to it)."
        )
    secret = settings.data_dir / SECRET_FILE_NAME
    if settings.secret_key is None and secret.exists():
        try:
            secret.read_text()
        except OSError as exc:
            raise StorageError(
                f"The generated secret {secret} cannot be read ({_reason(exc)}). Give the server's user read "
                "access to it, or set RELAYCHAT_SECRET_KEY to the value it holds."
            ) from exc


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _check_folder(folder: Path, setting: str, fix: str) -> None:
    """Create `folder` if needed and write a probe file in it: the only test that sees read-only mounts and ACLs."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        where = folder.resolve() if folder.is_absolute() else f"{folder} (under {Path.cwd()})"
        raise StorageError(f"RelayChat cannot write to {setting}: {where} — {_reason(exc)}. {fix}") from exc


def _reason(exc: OSError) -> str:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return "a file is in the way of that folder"
    return exc.strerror or type(exc).__name__
