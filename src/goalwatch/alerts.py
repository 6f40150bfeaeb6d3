"""Which verdicts become Slack messages, and the record that keeps any from going out twice.

Called by the evaluate DAG's ``notify`` task. A goal's alert is keyed by goal, period and
status: a rerun of the same day, or a later day with the same status, sends nothing new.
"""

from __future__ import annotations

import logging
from typing import Any

from goalwatch.config import Config
from goalwatch.delivery import Delivery
from goalwatch.messages import render_data_issue, render_verdict
from goalwatch.verdicts import Verdict
from goalwatch.store import Store
from goalwatch.validation import QualityReport

__all__ = ["ALERTING", "send_alerts"]

log = logging.getLogger(__name__)

# Statuses that earn a message; on_track is shown in summaries, never pushed.
ALERTING = ("at_risk", "off_track", "missed", "achieved")


def send_alerts(
    verdicts: list[Verdict],
    reports: list[QualityReport],
    *,
    config: Config,
    store: Store,
    delivery: Delivery,
) -> dict[str, Any]:
    sent: list[str] = []
    skipped: list[str] = []
    for v in verdicts:
        # A goal's message speaks for its segments too (they explain the shortfall).
        if v.status not in ALERTING or v.segment is not None:
            continue
        # A worse severity of the same status (off track: warning, then critical) is news too.
        status = v.status if v.severity is None else f"{v.status}/{v.severity}"
        key = f"{v.goal}.{v.status}"
        if store.was_sent(v.goal, v.period_start, status):
            skipped.append(key)
            continue
        mention = config.goal(v.goal).notify.mention if v.severity == "critical" else ()
        ts = delivery.send(render_verdict(v, mention=mention), key=key, as_of=v.as_of.isoformat())
        store.record_sent(goal=v.goal, period_start=v.period_start, status=status,
                          as_of=v.as_of, channel=v.channel, ts=ts)
        sent.append(key)
    for report in reports:
        if report.success:
            continue
        affected = [v for v in verdicts if report.metric in (v.metric, v.denominator) and v.segment is None]
        if not affected:
            continue
        as_of = affected[0].as_of
        key = f"data.{report.metric}"
        if store.was_sent(key, as_of, "data_issue"):
            skipped.append(key)
            continue
        channel = config.default_channel
        payload = render_data_issue(report, goals=[v.goal for v in affected], channel=channel,
                                    as_of=as_of.isoformat())
        ts = delivery.send(payload, key=key, as_of=as_of.isoformat())
        store.record_sent(goal=key, period_start=as_of, status="data_issue", as_of=as_of,
                          channel=channel, ts=ts)
        sent.append(key)
    log.info("Alerts sent: %s; already sent before: %s", sent or "none", skipped or "none")
    return {"sent": sent, "already_sent": skipped}
