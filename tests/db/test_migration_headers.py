"""Revision 0007 encrypts the extra headers of existing endpoints in place, and they still work afterwards."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from db import repository
from db.engine import Database
from db.migrate import _config
from services import endpoints
from services.runtime import start_runtime
from tests.conftest import make_settings

SECRET = "relay-secret-0123456789"


def test_an_old_databases_headers_are_encrypted_and_still_sent(database_url, tmp_path, fake_openai) -> None:
    database = Database(database_url)
    with database.engine.connect() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.commit()
    headers = json.dumps({"X-Api-Key": SECRET, "X-Forwarded-Host": "chat.example.com"})
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'local', true, '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO endpoints (id, user_id, name, base_url, extra_headers, is_default, source, max_tokens_field,"
            " created_at, updated_at) VALUES (1, 1, 'Relay', :url, :headers, true, 'user', 'max_tokens',"
            " '2026-01-01', '2026-01-01')"
        ), {"url": fake_openai.base_url, "headers": headers})
    database.dispose()

    runtime = start_runtime(make_settings(tmp_path / "data", database_url))  # migrates, with the server's secret
    try:
        with runtime.db.engine.connect() as connection:
            row = connection.execute(text("SELECT extra_headers, extra_headers_encrypted FROM endpoints")).one()
        assert SECRET not in str(row) and "chat.example.com" not in str(row)
        with runtime.db.read() as session:
            user = repository.ensure_user(session, "local")
        [view] = endpoints.list_views(runtime, user)
        assert view.extra_headers == {"X-Api-Key": "rel…6789", "X-Forwarded-Host": "cha….com"}
        models, problem = endpoints.list_models(runtime, user.id, view.id)
        assert problem is None and models
        sent = fake_openai.requests[-1].headers
        assert sent["x-api-key"] == SECRET and sent["x-forwarded-host"] == "chat.example.com"
    finally:
        runtime.close()


def test_downgrading_puts_the_values_back_and_upgrading_encrypts_them_again(database_url) -> None:
    from db.migrate import upgrade_to_head
    from services.keys import KeyBox

    keybox = KeyBox("test-secret")
    database = Database(database_url)
    upgrade_to_head(database.engine, keybox)
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'local', true, '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO endpoints (id, user_id, name, base_url, extra_headers, extra_headers_encrypted, is_default,"
            " source, max_tokens_field, created_at, updated_at) VALUES (1, 1, 'Relay', 'http://x/v1', :masks, :token,"
            " true, 'user', 'max_tokens', '2026-01-01', '2026-01-01')"
        ), {"masks": json.dumps({"X-Api-Key": "rel…6789"}),
            "token": keybox.encrypt(json.dumps({"X-Api-Key": SECRET}))})
    with database.engine.connect() as connection:
        config = _config()
        config.attributes.update(connection=connection, keybox=keybox)
        command.downgrade(config, "0005")
        connection.commit()
    with database.engine.connect() as connection:
        restored = connection.execute(text("SELECT extra_headers FROM endpoints")).scalar_one()
    assert (json.loads(restored) if isinstance(restored, str) else restored) == {"X-Api-Key": SECRET}
    upgrade_to_head(database.engine, keybox)
    with database.engine.connect() as connection:
        row = connection.execute(text("SELECT extra_headers, extra_headers_encrypted FROM endpoints")).one()
    assert SECRET not in str(row[0]) and json.loads(keybox.decrypt(row[1])) == {"X-Api-Key": SECRET}
    database.dispose()
