"""Claims: the sender making an intent's call holds it, so that two runs sending at once (the
evaluate run's notify and the watchdog's, say) never make the same call twice.

- ``alert_intents`` gains ``claim`` (the sender that holds it) and ``claimed_until`` (UTC; a claim
  whose sender died lapses then, and the next sender looks the call up before making it again).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_intents", sa.Column("claim", sa.String(32), nullable=True))
    op.add_column("alert_intents", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_intents") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claim")
