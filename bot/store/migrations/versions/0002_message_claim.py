"""A message being processed is claimed (token and lease), so two daemons never both read it.

Revision ID: 0002_message_claim
Revises: 0001_initial
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_message_claim"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: ADD COLUMN works in place on SQLite and PostgreSQL, no table rebuild
    op.add_column("messages", sa.Column("claim_token", sa.String(length=36), nullable=True))
    op.add_column("messages", sa.Column("claimed_by", sa.String(length=300), nullable=True))
    op.add_column("messages", sa.Column("claimed_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
        batch.drop_column("claim_token")
