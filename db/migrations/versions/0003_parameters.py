"""Parameters: presets, per-endpoint max_tokens field name, n>1 choices and tool results on messages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copies): see 0002 on why copying tables is avoided.
    op.add_column(
        "endpoints",
        sa.Column("max_tokens_field", sa.String(length=40), server_default="max_tokens", nullable=False),
    )
    op.add_column("messages", sa.Column("tool_call_id", sa.String(length=200), nullable=True))
    op.add_column("messages", sa.Column("choices", sa.JSON(), nullable=True))
    op.add_column("messages", sa.Column("chosen_index", sa.Integer(), nullable=True))
    op.create_table(
        "presets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name", name="uq_presets_user_name"),
    )


def downgrade() -> None:
    op.drop_table("presets")
    op.drop_column("messages", "chosen_index")
    op.drop_column("messages", "choices")
    op.drop_column("messages", "tool_call_id")
    op.drop_column("endpoints", "max_tokens_field")
