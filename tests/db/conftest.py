"""A SQLite-only database, for what only SQLite needs checking (connection pragmas, concurrent writers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db.engine import Database
from db.migrate import upgrade_to_head


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite file in a folder that does not exist yet (the engine creates it)."""
    database = Database(f"sqlite:///{tmp_path / 'data' / 'relaychat.db'}")
    upgrade_to_head(database.engine)
    yield database
    database.dispose()
