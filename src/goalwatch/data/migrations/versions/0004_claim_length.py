"""A claim names its sender with the Airflow run id (``notify:<run id>``), and an asset-triggered
run's id is about 70 characters: ``alert_intents.claim`` grows from 32 to 300 characters, as the
run ids elsewhere (250) plus the sender's name. SQLite never enforced the 32; PostgreSQL does.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_intents") as batch:
        batch.alter_column("claim", type_=sa.String(300), existing_type=sa.String(32), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("alert_intents") as batch:
        batch.alter_column("claim", type_=sa.String(32), existing_type=sa.String(300), existing_nullable=True)
