"""Upgrading keeps the data: a database written at the first revision still holds every row at head."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

from db.engine import Database
from db.migrate import _config, upgrade_to_head
from db.models import Conversation, Message


def test_rows_written_at_the_first_revision_survive_the_upgrade(database_url: str) -> None:
    database = Database(database_url)
    with database.engine.connect() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.commit()
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'local', true, '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO conversations (id, user_id, title, system_prompt, params, current_leaf_id, created_at, updated_at)"
            " VALUES (1, 1, 'Kept', '', '{}', 2, '2026-01-01', '2026-01-01')"
        ))
        connection.execute(text(
            "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at, updated_at) VALUES"
            " (1, 1, NULL, 'user', 'question', 'complete', '2026-01-01', '2026-01-01'),"
            " (2, 1, 1, 'assistant', 'answer', 'complete', '2026-01-01', '2026-01-01')"
        ))

    upgrade_to_head(database.engine)

    with database.read() as session:
        assert session.scalar(select(Conversation.title)) == "Kept"
        assert session.scalars(select(Message.content).order_by(Message.id)).all() == ["question", "answer"]
    if database.is_sqlite:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1, "foreign keys are back on"
    database.dispose()
