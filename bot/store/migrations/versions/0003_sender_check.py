"""The receiving server's SPF/DKIM/DMARC verdicts on each message (Authentication-Results).

Revision ID: 0003_sender_check
Revises: 0002_message_claim
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sender_check"
down_revision = "0002_message_claim"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("sender_check", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sender_check")
