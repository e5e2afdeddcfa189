"""When an admin marked a message as handled before the bot went live (`intake mark-handled`):
such mail stays kept and listed, and a later `reprocess` leaves it unanswered and uncounted.

Revision ID: 0005_marked_handled
Revises: 0004_submission_kind_index
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_marked_handled"
down_revision = "0004_submission_kind_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("marked_handled_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("marked_handled_at")
