"""Extra headers are encrypted like the API key; each user's list of hosts whose media load without asking

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03

Encrypting needs the server secret: the app hands its KeyBox over as the config attribute "keybox"; the alembic
command line builds one from the same settings the app reads (RELAYCHAT_SECRET_KEY, or the data folder's file).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from services.extra_headers import decrypt_headers, encrypt_headers, mask_headers
from services.keys import KeyBox

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_endpoints = sa.table(
    "endpoints",
    sa.column("id", sa.Integer),
    sa.column("extra_headers", sa.JSON),
    sa.column("extra_headers_encrypted", sa.Text),
)


def _keybox() -> KeyBox:
    config = op.get_context().config
    keybox = config.attributes.get("keybox") if config is not None else None
    if keybox is None:
        from services.config import load_settings
        from services.keys import load_or_create_secret

        settings = load_settings()
        keybox = KeyBox(load_or_create_secret(settings.secret_key, settings.data_dir))
    return keybox


def _headers(value: object) -> dict[str, str]:
    if isinstance(value, str):  # a JSON column read through a bare table may come back as text
        value = json.loads(value or "{}")
    return {str(name): str(item) for name, item in (value or {}).items()} if isinstance(value, dict) else {}


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("extra_headers_encrypted", sa.Text(), nullable=True))
    op.create_table(
        "media_hosts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "host", name="uq_media_hosts_user_host"),
    )
    connection = op.get_bind()
    rows = [(id_, _headers(headers)) for id_, headers in connection.execute(sa.select(_endpoints.c.id, _endpoints.c.extra_headers))]
    rows = [(id_, headers) for id_, headers in rows if headers]
    if not rows:
        return
    keybox = _keybox()
    for id_, headers in rows:  # in place: from here on the plain values exist only encrypted
        connection.execute(
            _endpoints.update().where(_endpoints.c.id == id_).values(
                extra_headers=mask_headers(headers), extra_headers_encrypted=encrypt_headers(keybox, headers))
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_endpoints.c.id, _endpoints.c.extra_headers_encrypted)).all()
    rows = [(id_, token) for id_, token in rows if token]
    if rows:
        keybox = _keybox()
        for id_, token in rows:
            connection.execute(
                _endpoints.update().where(_endpoints.c.id == id_).values(extra_headers=decrypt_headers(keybox, token) or {}))
    op.drop_table("media_hosts")
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("extra_headers_encrypted")
