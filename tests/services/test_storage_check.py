"""At start, a data path the server cannot use is named with the setting and the fix, in each of its forms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.config import load_settings
from services.storage_check import StorageError, check_storage

UNWRITABLE = Path("/sys/kernel")  # exists and refuses new files, even for root; absent or writable: skip


def unwritable_folder() -> Path:
    try:
        (UNWRITABLE / "relaychat-probe").touch()
    except OSError:
        return UNWRITABLE
    pytest.skip(f"{UNWRITABLE} is writable here")


def check(**env: str) -> None:
    check_storage(load_settings(env, {}))


def test_a_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(StorageError) as refused:
        check(RELAYCHAT_DATA_DIR=str(tmp_path / "data"))
    assert str(refused.value) == (
        f"RelayChat cannot write to RELAYCHAT_DATA_DIR (where the database and the generated secret live): "
        f"{tmp_path / 'data'} — a file is in the way of that folder. Set RELAYCHAT_DATA_DIR to a folder the "
        "server's user can write, or give it write access."
    )


def test_a_data_dir_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="file/data — a file is in the way"):
        check(RELAYCHAT_DATA_DIR=str(tmp_path / "file" / "data"))


@pytest.mark.parametrize("below", ["", "relaychat-data"], ids=["existing", "to-create"])
def test_a_data_dir_that_cannot_be_written(below: str) -> None:
    folder = unwritable_folder() / below if below else unwritable_folder()
    with pytest.raises(StorageError, match=f"RELAYCHAT_DATA_DIR .*: {folder} — (Permission denied|Operation not permitted)"):
        check(RELAYCHAT_DATA_DIR=str(folder))


def test_only_the_secret_needs_the_data_dir_when_the_database_is_elsewhere(tmp_path: Path) -> None:
    folder = unwritable_folder()
    with pytest.raises(StorageError, match=r"RELAYCHAT_DATA_DIR \(where the generated secret live"):
        check(RELAYCHAT_DATA_DIR=str(folder), DATABASE_URL=f"sqlite:///{tmp_path / 'relay.db'}")
    # With the secret set and PostgreSQL, nothing is written there: no reason to refuse.
    check(RELAYCHAT_DATA_DIR=str(folder), RELAYCHAT_SECRET_KEY="k", DATABASE_URL="postgresql+psycopg://u@h/db")


def test_the_folder_of_a_sqlite_database_url(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="the folder of DATABASE_URL's SQLite file: .*file — a file is in the way"):
        check(RELAYCHAT_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path / 'file' / 'relay.db'}")
    with pytest.raises(StorageError, match="the folder of DATABASE_URL's SQLite file: /sys/kernel/x"):
        unwritable_folder()
        check(RELAYCHAT_DATA_DIR=str(tmp_path / "data"), DATABASE_URL="sqlite:////sys/kernel/x/relay.db")


def test_a_database_file_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "data" / "relaychat.db").mkdir(parents=True)
    with pytest.raises(StorageError, match="The database file .*relaychat.db cannot be read and written"):
        check(RELAYCHAT_DATA_DIR=str(tmp_path / "data"))


def test_an_unreadable_secret(tmp_path: Path) -> None:
    (tmp_path / "data" / "secret.key").mkdir(parents=True)
    with pytest.raises(StorageError, match="The generated secret .*secret.key cannot be read .*RELAYCHAT_SECRET_KEY"):
        check(RELAYCHAT_DATA_DIR=str(tmp_path / "data"))


def test_a_relative_data_dir_is_shown_with_where_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("data").write_text("x")
    with pytest.raises(StorageError, match=f"data \\(under {tmp_path}\\) — a file is in the way"):
        check()


def test_usable_folders_pass_and_missing_ones_are_created(tmp_path: Path) -> None:
    check(RELAYCHAT_DATA_DIR=str(tmp_path / "new" / "deep"))
    assert (tmp_path / "new" / "deep").is_dir()
    assert os.listdir(tmp_path / "new" / "deep") == [], "the probe leaves nothing behind"
