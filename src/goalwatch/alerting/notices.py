"""Messages said once per key: data issues, "monitor unhealthy", the watchdog's alarms, the digest.

Unlike a goal's living message (``alerting.plan``), each of these is planned once per key with
``Ledger.post_once`` and never updated: whoever finds the news first (the evaluate run, the
watchdog, a failing task's callback) plans it, and the others find the key taken. The keys are
the product's promise of "once":

- ``data.<metric>.<day>`` / ``data_late.<metric>.<day>``: a metric's data failed its checks (or
  only has not arrived by its deadline), on the day it was checked as of;
- ``unhealthy.<dag>.<task>.<day>``: a task failed after its retries;
- ``watchdog.<day>``: no evaluation succeeded within ``watchdog_hours``;
- ``digest.<channel>.<day>``: the weekly digest of a channel;
- ``delivery_failed.<channel>.<code>[.<scope>].<day>``: Slack refused the alerts to a channel for good
  (``alerting.refusals``), said to the default channel.

Called by ``runtime.tasks``; each function plans, the caller delivers.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from goalwatch.alerting.ledger import Intent, Ledger
from goalwatch.alerting.render.digest import render_digest
from goalwatch.alerting.render.messages import render_data_issue, render_delivery_failure, render_unhealthy
from goalwatch.alerting.send import Refused
from goalwatch.config import Config
from goalwatch.core.findings import QualityReport
from goalwatch.core.periods import as_of_for
from goalwatch.core.verdicts import Verdict

__all__ = [
    "data_alert",
    "plan_digest",
    "plan_failures",
    "plan_late_data",
    "plan_unhealthy",
    "plan_watchdog",
    "watchdog_due",
]

log = logging.getLogger(__name__)


def data_alert(
    conn: Any, ledger: Ledger, report: QualityReport, *, goals: list[str], config: Config, as_of: date
) -> str | None:
    """Plan the data owners' alert about ``report`` (a data issue, or data late), once per metric
    and day whoever finds it first (the evaluate run or the watchdog): keyed on the day the data
    was checked as of, and on whether it is only late, so a fuller report that day still speaks.
    Its key, if planned now."""
    if report.as_of:
        as_of = date.fromisoformat(report.as_of)
    key = f"{'data_late' if report.late else 'data'}.{report.metric}.{as_of.isoformat()}"
    channel = config.metric(report.metric).owner_channel or config.default_channel
    payload = render_data_issue(report, goals=goals, channel=channel, as_of=as_of.isoformat())
    return (
        key if ledger.post_once(conn, key=key, channel=channel, payloads=[payload], as_of=as_of) is not None else None
    )


def plan_unhealthy(
    ledger: Ledger, config: Config, *, dag_id: str, task_id: str, reason: str, tries: int, day: date
) -> bool:
    """A task failed for good: its metric's owners (a task mapped per metric, ``ingest[<metric>]``),
    else the default channel, hear that the monitor is unhealthy, once per task and day. Whether
    it was planned now."""
    metric = task_id.partition("[")[2].removesuffix("]")
    channel = (config.metrics[metric].owner_channel if metric in config.metrics else None) or config.default_channel
    key = f"unhealthy.{dag_id}.{task_id}.{day.isoformat()}"
    payload = render_unhealthy(
        dag_id=dag_id, task_id=task_id, reason=reason, channel=channel, as_of=day.isoformat(), tries=tries
    )
    with ledger.engine.begin() as conn:
        return ledger.post_once(conn, key=key, channel=channel, payloads=[payload], as_of=day) is not None


def watchdog_due(ledger: Ledger, config: Config, *, moment: datetime) -> str | None:
    """Why the watchdog must alarm at ``moment`` (no evaluation succeeded within ``watchdog_hours``),
    or None when one did."""
    last = ledger.last_beat("evaluate")
    if last is not None and moment - last <= timedelta(hours=config.watchdog_hours):
        return None
    since = f"since {last.isoformat()}" if last else "yet"
    return f"no evaluation has succeeded {since} (the watchdog allows {config.watchdog_hours} hours)"


def plan_watchdog(ledger: Ledger, config: Config, *, moment: datetime, reason: str) -> None:
    """The dead-man's switch: "monitor unhealthy" to the default channel, once per day."""
    day = as_of_for(moment, config.timezone)
    payload = render_unhealthy(
        dag_id="goalwatch_evaluate",
        task_id="notify",
        reason=reason,
        channel=config.default_channel,
        as_of=day.isoformat(),
        tries=0,
    )
    with ledger.engine.begin() as conn:
        ledger.post_once(
            conn, key=f"watchdog.{day.isoformat()}", channel=config.default_channel, payloads=[payload], as_of=day
        )


def plan_late_data(ledger: Ledger, config: Config, reports: dict[str, QualityReport], *, day: date) -> list[str]:
    """ "Data late" for each metric whose checks found days past their deadline, with the same key
    the evaluate run would use: a source that stopped sending starts no evaluate run, so the
    watchdog says it from the store. The keys planned now."""
    planned = []
    with ledger.engine.begin() as conn:
        for metric, report in reports.items():
            late = tuple(f for f in report.findings if f.late)
            if not late:
                continue
            goals = [g.name for g in config.goals if metric in g.uses]
            key = data_alert(
                conn, ledger, dataclasses.replace(report, findings=late), goals=goals, config=config, as_of=day
            )
            if key is not None:
                planned.append(key)
    return planned


def plan_digest(ledger: Ledger, verdicts: list[Verdict], *, chart: Callable[[Verdict], bytes | None]) -> list[str]:
    """Each channel's digest of its goals' totals, worst first, with the chart (``chart(verdict)``)
    of its goal furthest behind, never one drawn from data that failed its checks; once per
    channel and day. The keys planned now."""
    totals = [v for v in verdicts if v.segment is None]
    planned = []
    for channel in sorted({v.channel for v in totals}):
        mine = [v for v in totals if v.channel == channel]
        day = max(v.as_of for v in mine)
        key = f"digest.{channel.strip('#')}.{day.isoformat()}"
        judged = [v for v in mine if v.status != "data_issue"]
        worst = min(
            judged, key=lambda v: (v.status not in ("missed", "off_track", "at_risk"), v.pace_ratio), default=None
        )
        with ledger.engine.connect() as conn:
            if ledger.said(conn, key):
                continue
        # Drawn before the transaction: a chart takes a while, and the ledger's rows wait for none.
        png = chart(worst) if worst is not None else None
        with ledger.engine.begin() as conn:
            parent = ledger.post_once(
                conn, key=key, channel=channel, as_of=day, payloads=render_digest(mine, channel=channel, as_of=day)
            )
            if parent is None:
                continue
            if png:
                assert worst is not None
                ledger.add_intent(
                    conn,
                    kind="upload",
                    message_id=parent,
                    key=f"{key}.chart",
                    as_of=day,
                    payload={
                        "filename": f"digest-{channel.strip('#')}-{day.isoformat()}.png",
                        "title": f"{worst.label} — {worst.period_label}",
                        "content": base64.b64encode(png).decode(),
                    },
                )
        planned.append(key)
    return planned


NOTICES_A_DAY = 20  # refusal notices of one channel and topic a day, at most


def plan_failures(ledger: Ledger, config: Config, refused: list[Refused], *, day: date) -> list[str]:
    """Say once, to the default channel, which alerts Slack refused for good, where, and what to do:
    one message per channel and refusal (a missing scope: one for all its channels). A channel
    that refuses the bot (not in it, archived) is said once until it works again: its later alerts
    are tried, refused and logged, not announced again; once a post to it succeeds (an update of
    a message already there may work without the bot in the channel), a new refusal is news. A
    missing scope is said once (in whichever channel) until a call that needs it succeeds. A
    refused message (its size or shape) is said once per message. What was said is read from the
    notices planned, so a refusal no notice covered (the run stopped first) is said the next time.
    Not when the default channel itself refused, nor for a refused token (nothing can be posted
    then): the task log says those. The keys planned now."""
    now = {r.intent_id for r in refused}
    history = ledger.intents()
    earlier = [i for i in history if i.state == "failed" and i.id not in now]  # refused in earlier runs
    channels = ledger.message_channels()
    groups: dict[tuple[str, str], list[Refused]] = {}
    for r in refused:
        if r.key.startswith("delivery_failed.") or r.refusal.reach == "token":
            continue
        if r.channel == config.default_channel and r.refusal.reach == "channel":
            continue
        if _told(r, earlier, history, channels):
            continue
        # A missing scope is one notice for every channel it stops (the fix is the same).
        groups.setdefault(("" if r.refusal.reach == "scope" else r.channel, r.refusal.topic), []).append(r)
    planned = []
    with ledger.engine.begin() as conn:
        for (_, topic), items in groups.items():
            where = sorted({r.channel for r in items})
            key = f"delivery_failed.{where[0].strip('#')}.{topic}.{day.isoformat()}"
            payload = render_delivery_failure(
                channel=config.default_channel,
                failed_in=", ".join(where),
                code=items[0].refusal.code,
                advice=items[0].refusal.advice,
                goals=sorted({g for r in items for g in r.goals}),
                keys=[r.key for r in items],
                as_of=day.isoformat(),
            )
            # The refusal is news (not told): a key already taken is an earlier notice of the same
            # day (another message refused, or a channel refused again after it worked): number it.
            for n in range(1, NOTICES_A_DAY + 1):
                numbered = key if n == 1 else f"{key}-{n}"
                if ledger.post_once(conn, key=numbered, channel=config.default_channel, payloads=[payload], as_of=day):
                    planned.append(numbered)
                    break
    return planned


def _told(r: Refused, earlier: list[Intent], history: list[Intent], channels: dict[int, str]) -> bool:
    """Whether a notice already said ``r``: one is planned (sent, or still to be sent) for its
    channel and topic, and since then, for a refused channel no post to it was sent, for a missing
    scope (said in any channel) no call of the same kind was sent, and for a refused message it
    came after the same message was first refused the same way. Judged on the notices themselves,
    so a refusal recorded where no notice was planned (a run that stopped first) is still news."""
    name = r.channel.strip("#")
    notices = []
    for i in history:
        of = _notice_of(i.key) if i.kind == "post" and i.state in ("sent", "pending") else None
        if of is not None and of[1] == r.refusal.topic and (of[0] == name or r.refusal.reach == "scope"):
            notices.append(i.seq)
    if not notices:
        return False
    said = max(notices)
    if r.refusal.reach == "channel":
        return not any(
            i.state == "sent" and i.seq > said and i.kind == "post" and channels.get(i.message_id) == r.channel
            for i in history
        )
    if r.refusal.reach == "scope":
        return not any(i.state == "sent" and i.seq > said and i.kind == r.kind for i in history)
    first = [i.seq for i in earlier if i.message_id == r.message_id and i.error == r.refusal.reason()]
    return bool(first) and said > min(first)


def _notice_of(key: str) -> tuple[str, str] | None:
    """(channel, topic) of a ``delivery_failed.<channel>.<topic>.<day>`` key, else None."""
    parts = key.split(".")
    if parts[0] != "delivery_failed" or len(parts) < 4:
        return None
    return parts[1], ".".join(parts[2:-1])
