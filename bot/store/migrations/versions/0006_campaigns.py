"""Several campaigns in one database: each submission belongs to a campaign (its slug), and
each message names the campaign it was attributed to. Rows made before belong to the shipped
2020 campaign, the only one the bot knew then (the columns' server default); a unit's item is
now current per campaign, so the (unit, item) index leads with the campaign.

Revision ID: 0006_campaigns
Revises: 0005_marked_handled
Create Date: 2026-12-09
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_campaigns"
down_revision = "0005_marked_handled"
branch_labels = None
depends_on = None

# The slug of campaigns/2020-anqing-safety-month (bot/store/models.DEFAULT_CAMPAIGN), written
# out: a migration says what it did on the day it was written.
_2020 = "2020-anqing-safety-month"
_SLUG = 120


def upgrade() -> None:
    op.add_column("submissions", sa.Column("campaign", sa.String(_SLUG), nullable=False, server_default=_2020))
    op.add_column("messages", sa.Column("campaign", sa.String(_SLUG), nullable=True, server_default=_2020))
    op.create_index("ix_messages_campaign", "messages", ["campaign"])
    op.drop_index("ix_submission_unit_item", table_name="submissions")
    op.create_index("ix_submission_campaign_unit_item", "submissions", ["campaign", "unit", "item"])


def downgrade() -> None:
    op.drop_index("ix_submission_campaign_unit_item", table_name="submissions")
    op.create_index("ix_submission_unit_item", "submissions", ["unit", "item"])
    op.drop_index("ix_messages_campaign", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("campaign")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("campaign")
