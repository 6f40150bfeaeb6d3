"""Once, enforced by the store: unique message keys and intent numbers, a counter for the
numbers (and the planners' lock), failed intents, and the duplicates goalwatch deleted.

- ``alert_intents`` gains ``first_attempt`` (when its first attempt began, UTC) and ``error`` (the
  permanent refusal that failed it; ``state`` may now be ``failed``), and ``seq`` becomes unique:
  should two planners have numbered intents alike before, they are renumbered in their order;
- ``alert_messages.key`` becomes unique: of messages that share a key the oldest keeps it and the
  others become ``<key>~<id>``;
- ``alert_counters`` holds ``intent_seq`` (from the highest number used) and ``plan``;
- ``alert_deletions``: each duplicate message deleted from Slack, once per channel and ``ts``.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_intents = sa.table("alert_intents", sa.column("id", sa.String), sa.column("seq", sa.Integer))
_messages = sa.table("alert_messages", sa.column("id", sa.Integer), sa.column("key", sa.String))
KEY_LENGTH = 300


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("alert_intents", sa.Column("first_attempt", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alert_intents", sa.Column("error", sa.Text, nullable=True))
    _renumber(bind)
    if "ix_alert_intents_seq" in {i["name"] for i in sa.inspect(bind).get_indexes("alert_intents")}:
        op.drop_index("ix_alert_intents_seq", table_name="alert_intents")
    op.create_index("ix_alert_intents_seq", "alert_intents", ["seq"], unique=True)
    _rename_duplicates(bind)
    op.create_index("ix_alert_messages_key", "alert_messages", ["key"], unique=True)
    counters = op.create_table(
        "alert_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    top = bind.execute(sa.select(sa.func.coalesce(sa.func.max(_intents.c.seq), 0))).scalar_one()
    op.bulk_insert(counters, [{"name": "intent_seq", "value": int(top)}, {"name": "plan", "value": 0}])
    op.create_table(
        "alert_deletions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(64), nullable=False),
        sa.Column("intent_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alert_deletions_message", "alert_deletions", ["channel_id", "ts"], unique=True)


def _renumber(bind: sa.Connection) -> None:
    """Number the intents 1, 2, ... in their order (ties by id) when any two share a number."""
    count, distinct = bind.execute(
        sa.select(sa.func.count(_intents.c.seq), sa.func.count(sa.distinct(_intents.c.seq)))
    ).one()
    if count == distinct:
        return
    rows = bind.execute(sa.select(_intents.c.id, _intents.c.seq).order_by(_intents.c.seq, _intents.c.id)).all()
    for number, (intent_id, seq) in enumerate(rows, start=1):
        if seq != number:
            bind.execute(sa.update(_intents).where(_intents.c.id == intent_id).values(seq=number))


def _rename_duplicates(bind: sa.Connection) -> None:
    """Of messages sharing a key, the oldest keeps it; each other becomes ``<key>~<id>``."""
    shared = sa.select(_messages.c.key).group_by(_messages.c.key).having(sa.func.count() > 1)
    rows = bind.execute(
        sa.select(_messages.c.id, _messages.c.key)
        .where(_messages.c.key.in_(shared))
        .order_by(_messages.c.key, _messages.c.id)
    ).all()
    seen: set[str] = set()
    for message_id, key in rows:
        if key not in seen:
            seen.add(key)
            continue
        suffix = f"~{message_id}"
        bind.execute(
            sa.update(_messages)
            .where(_messages.c.id == message_id)
            .values(key=key[: KEY_LENGTH - len(suffix)] + suffix)
        )


def downgrade() -> None:
    raise NotImplementedError("the goalwatch store migrates forward only")
