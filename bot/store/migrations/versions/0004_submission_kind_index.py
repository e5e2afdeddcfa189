"""An index for the look-up of every current liaison form, which each processed mail makes
(pipeline: the sender's address on record, the liaison named in the acknowledgement): without
it the look-up read every current submission, so a backlog cost grew with its square.

Revision ID: 0004_submission_kind_index
Revises: 0003_sender_check
Create Date: 2026-11-29
"""
from __future__ import annotations

from alembic import op

revision = "0004_submission_kind_index"
down_revision = "0003_sender_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submission_kind_current", "submissions", ["kind", "current"])


def downgrade() -> None:
    op.drop_index("ix_submission_kind_current", table_name="submissions")
