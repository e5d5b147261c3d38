"""Shared fixtures: the fake endpoint, a migrated database (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set), and a RelayChat runtime wired to both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db import repository
from db.engine import Database
from db.models import User
from db.migrate import upgrade_to_head
from services.config import Settings, Timeouts
from services.runtime import Runtime, start_runtime
from tests.fake_openai import FakeOpenAI

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running fake endpoint; the test fails if anything sent to it broke OpenAI's request schema."""
    with FakeOpenAI() as fake:
        yield fake
    if fake.schema_errors:
        pytest.fail("chat requests broke OpenAI's request schema:\n" + "\n".join(fake.schema_errors), pytrace=False)


def reset_postgres(url: str) -> None:
    """Empty the test database so each test starts from a fresh `upgrade head`."""
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        database.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: a fresh SQLite file, or (second run) the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'relaychat.db'}"
    assert TEST_DATABASE_URL is not None
    assert make_url(TEST_DATABASE_URL).get_backend_name() == "postgresql"
    reset_postgres(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database (alembic upgrade head), on every configured backend."""
    database = Database(database_url)
    upgrade_to_head(database.engine)
    yield database
    database.dispose()


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        base_url=None,
        api_key=None,
        model=None,
        database_url=database_url,
        data_dir=data_dir,
        secret_key="test-secret",
        timeouts=Timeouts(connect=2.0, first_token=5.0, idle=5.0),
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, fake_openai: FakeOpenAI) -> Iterator[Runtime]:
    """A started runtime whose configured endpoint is the fake one (key "sk-test-key-0001")."""
    fake_openai.api_key = "sk-test-key-0001"
    settings = make_settings(
        tmp_path / "data", database_url, base_url=fake_openai.base_url, api_key="sk-test-key-0001", model="fake-gpt"
    )
    rt = start_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def alice(db: Database) -> User:
    """A user of the migrated database; `bob` is another, whose data alice must never see."""
    with db.write() as session:
        return repository.ensure_user(session, "alice")


@pytest.fixture
def bob(db: Database) -> User:
    with db.write() as session:
        return repository.ensure_user(session, "bob")
