"""What the alert ledger keeps beside its calls: the duplicates goalwatch deleted, the
watchdog's heartbeats and the silences. A base of :class:`goalwatch.alerting.ledger.Ledger`
(which gives it ``engine``), in the same store; the CLI manages silences through it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from goalwatch.alerting.tables import Silence, alert_deletions, alert_heartbeats, alert_silences, utc
from goalwatch.data.store import insert_ignore

__all__ = ["Records"]


class Records:
    """Deletions, heartbeats and silences in the goalwatch store."""

    engine: sa.Engine

    # -- deletions (by heal) ---------------------------------------------------------------------

    def record_deletion(self, *, message_id: int | None, channel_id: str, ts: str, intent_id: str, reason: str) -> bool:
        """Record that goalwatch deleted the message at (``channel_id``, ``ts``), a duplicate of
        ``message_id`` made by ``intent_id``; False when it was recorded before."""
        values = dict(message_id=message_id, channel_id=channel_id, ts=ts, intent_id=intent_id, reason=reason)
        values["at"] = datetime.now(UTC)
        with self.engine.begin() as conn:
            return insert_ignore(conn, alert_deletions, values, on=["channel_id", "ts"]) is not None

    def deleted(self, *, channel_id: str, ts: str) -> bool:
        """Whether goalwatch recorded the message at (``channel_id``, ``ts``) as deleted (or as one
        it may not delete)."""
        query = sa.select(alert_deletions.c.id).where(
            alert_deletions.c.channel_id == channel_id, alert_deletions.c.ts == ts
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def deletions(self) -> list[dict[str, Any]]:
        """What goalwatch deleted, oldest first: id, message_id, channel_id, ts, intent_id,
        reason and ``at`` (UTC)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alert_deletions).order_by(alert_deletions.c.id)).mappings()
            return [{**r, "at": utc(r["at"])} for r in rows]

    # -- heartbeats (for the watchdog) ----------------------------------------------------------

    def beat(self, name: str, *, moment: datetime, run_id: str | None) -> None:
        """Record that ``name`` (e.g. the evaluation) succeeded for the run at ``moment``."""
        with self.engine.begin() as conn:
            previous = self.last_beat(name, conn=conn)
            if previous is not None and previous >= moment:
                return
            conn.execute(sa.delete(alert_heartbeats).where(alert_heartbeats.c.name == name))
            conn.execute(alert_heartbeats.insert().values(name=name, moment=moment, run_id=run_id))

    def last_beat(self, name: str, *, conn: sa.Connection | None = None) -> datetime | None:
        query = sa.select(alert_heartbeats.c.moment).where(alert_heartbeats.c.name == name)
        if conn is not None:
            return utc(conn.execute(query).scalar())
        with self.engine.connect() as own:
            return utc(own.execute(query).scalar())

    # -- silences -------------------------------------------------------------------------------

    def add_silence(self, *, goal: str, segment: str | None, until: date, reason: str) -> int:
        values = dict(goal=goal, segment=segment, until=until, reason=reason)
        with self.engine.begin() as conn:
            return int(conn.execute(alert_silences.insert().values(**values)).inserted_primary_key[0])

    def silences(self) -> list[Silence]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alert_silences).order_by(alert_silences.c.id)).mappings()
            return [Silence(**r) for r in rows]

    def remove_silence(self, silence_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(alert_silences).where(alert_silences.c.id == silence_id)).rowcount > 0
