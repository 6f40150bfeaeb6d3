"""One sender per call: the claims on the alert ledger's intents (``alert_intents.claim`` and
``claimed_until``). A sender claims an intent before its call (:meth:`Claims.claim`, one atomic
``UPDATE``), holds the claim again before a call that must not be made twice
(:meth:`Claims.renew`: a claim that lapsed and was taken stops it), and releases it when done. A
sender that died loses its claim when the lease lapses. A base of
:class:`goalwatch.alerting.ledger.Ledger` (which gives it ``engine``); used by ``alerting.send``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from goalwatch.alerting.tables import Intent, alert_intents, intent_of

__all__ = ["CLAIM_LEASE", "Claims"]

# How long a sender holds an intent it is sending: far longer than one call takes (its timeout
# and rate-limit waits included), so only a sender that died loses its claim.
CLAIM_LEASE = timedelta(minutes=5)


class Claims:
    """Claims, attempts and state of the intents, each read or written on its own transaction."""

    engine: sa.Engine

    def claim(self, intent: Intent, owner: str, *, lease: timedelta = CLAIM_LEASE) -> Intent | None:
        """Take ``intent`` for ``owner`` to make its call: the intent as it stands now (``intent``
        may be older: another run may have tried it since) when it is pending and no other sender
        holds it (or the other's claim lapsed), else None. A claim ``owner`` holds already is
        its own: a retry of a task whose try died mid-call (the same owner, see ``deliver``) takes
        it back at once, and its attempts say whether to look the call up first. One atomic
        ``UPDATE``: of two senders, one takes it."""
        now = datetime.now(UTC)
        free = sa.or_(
            alert_intents.c.claimed_until.is_(None),
            alert_intents.c.claimed_until < now,
            alert_intents.c.claim == owner,
        )
        query = (
            sa.update(alert_intents)
            .where(alert_intents.c.id == intent.id, alert_intents.c.state == "pending", free)
            .values(claim=owner, claimed_until=now + lease)
        )
        with self.engine.begin() as conn:
            if conn.execute(query).rowcount != 1:
                return None
            row = conn.execute(sa.select(alert_intents).where(alert_intents.c.id == intent.id)).mappings().one()
            return intent_of(row)

    def renew(self, intent: Intent, owner: str, *, lease: timedelta = CLAIM_LEASE) -> bool:
        """Hold ``owner``'s claim on ``intent`` for another ``lease``, before a call that must not
        be made twice: False when the claim lapsed and another sender took it (or the intent is
        no longer pending), and then the call must not be made."""
        now = datetime.now(UTC)
        query = (
            sa.update(alert_intents)
            .where(alert_intents.c.id == intent.id, alert_intents.c.claim == owner, alert_intents.c.state == "pending")
            .values(claimed_until=now + lease)
        )
        with self.engine.begin() as conn:
            return conn.execute(query).rowcount == 1

    def release(self, intent: Intent, owner: str) -> None:
        """``owner`` is done with ``intent``'s call (made, failed or not)."""
        where = sa.and_(alert_intents.c.id == intent.id, alert_intents.c.claim == owner)
        with self.engine.begin() as conn:
            conn.execute(sa.update(alert_intents).where(where).values(claim=None, claimed_until=None))

    def unsure(self, intent: Intent, why: str | None) -> None:
        """Note on the pending ``intent`` that its last call may have taken effect though it did not
        answer ok (``why``), or clear it (None): an upload so noted is not made again."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(alert_intents)
                .where(alert_intents.c.id == intent.id, alert_intents.c.state == "pending")
                .values(error=why)
            )

    def state(self, intent: Intent) -> str:
        """``intent``'s state now (``intent`` may be older)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(alert_intents.c.state).where(alert_intents.c.id == intent.id)).scalar_one()

    def attempts(self, intent: Intent) -> int:
        """How many attempts of ``intent`` were counted so far (``intent`` may be older)."""
        with self.engine.connect() as conn:
            query = sa.select(alert_intents.c.attempts).where(alert_intents.c.id == intent.id)
            return conn.execute(query).scalar_one()
