"""The engine and units of work, from any SQLAlchemy URL; SQLite tuned for many concurrent writers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite the folder is created and WAL with a busy timeout switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # We issue BEGIN ourselves (below) so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # A deferred transaction that reads and then writes fails at once with "database is locked" when
        # another writer got in between (busy_timeout cannot help). Writers start IMMEDIATE and wait instead.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


StorageProblem = Literal["busy", "full", "read_only", "other"]


class WriteFailed(RuntimeError):
    """A change the database did not store (nothing of it was committed); `str()` says why, in words."""

    def __init__(self, problem: StorageProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def write_failure(exc: OperationalError) -> WriteFailed:
    """The database's refusal in words a user can act on (SQLite and PostgreSQL)."""
    detail = str(exc.orig or exc).lower()
    if "locked" in detail or "busy" in detail or "lock timeout" in detail:
        return WriteFailed("busy", "the database is busy: another task, such as a large import, held it for more "
                                   f"than {SQLITE_BUSY_TIMEOUT_MS / 1000:g} s; try again in a moment")
    if "disk is full" in detail or "no space left" in detail or "could not extend" in detail:
        return WriteFailed("full", "the database's disk is full")
    if "readonly" in detail or "read-only" in detail:
        return WriteFailed("read_only", "the database is read-only")
    return WriteFailed("other", f"the database refused the change ({str(exc.orig or exc).strip()[:200]})")


class Database:
    """An engine plus its units of work: `read()` for queries, `write()` for changes (committed on exit)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work committed on exit; a database that cannot take it (locked past the busy timeout, disk
        full, read-only) raises WriteFailed, and then nothing of it is stored."""
        with self._sessions() as session:
            try:
                if self.is_sqlite:
                    session.connection(execution_options={"sqlite_immediate": True})
                yield session
                session.commit()
            except BaseException as exc:
                session.rollback()
                if isinstance(exc, OperationalError):
                    raise write_failure(exc) from exc
                raise

    def dispose(self) -> None:
        self.engine.dispose()
