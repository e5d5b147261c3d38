"""Endpoints may name a model that writes conversation titles

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("endpoints", sa.Column("title_model", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("endpoints", "title_model")
