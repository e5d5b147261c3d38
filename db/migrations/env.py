"""Alembic environment: run against the connection the app hands over, or DATABASE_URL from the CLI."""

from __future__ import annotations

import os

from alembic import context

from db.engine import make_engine
from db.models import Base
from db.search import made_by_migration

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Autogenerate must not offer to drop full-text search, which the models do not describe."""
    return not made_by_migration(type_, name)


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(os.environ.get("DATABASE_URL", "sqlite:///data/relaychat.db"))
    with engine.connect() as conn:
        run_migrations(conn)
        conn.commit()
