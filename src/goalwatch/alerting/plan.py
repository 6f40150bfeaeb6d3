"""What goalwatch says in Slack after an evaluation: one living message per goal and period.

Called by ``alerting.notify`` (the evaluate DAG's ``notify`` task, and replays through the same
path). For each goal's total verdict it compares the status with the ledger's and plans, before
anything is sent:

- the first time a goal in a period needs attention (at risk, off track, missed, achieved), a new
  message; goals of one channel that need one in the same evaluation share it;
- afterwards, new numbers update that message in place (``chat.update``), and only when the
  rendering changed;
- a status change is a reply in the message's thread; a recovery is a "resolved" reply and the
  message shows it resolved; the period's close is a reply with the final verdict;
- a critical or missed status that persists is repeated in the thread only every
  ``renotify_days`` days; a re-evaluation with no change sends nothing new;
- a silenced goal's changes are recorded, not sent; when the silence ends, the current state is.

In three steps: :func:`_decide` works out what is new from the ledger's states (no writes); the
charts a new message or a final verdict gets are drawn; then one transaction writes the new
states, the transitions and every Slack call as an intent. ``alerting.send.deliver`` sends the
intents, so a crash between planning and sending loses nothing and a retry repeats nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from goalwatch.alerting.ledger import Ledger, Silence, State
from goalwatch.alerting.notices import data_alert
from goalwatch.alerting.render.messages import render_group, render_reply, render_verdict
from goalwatch.alerting.uploads import Later, chart_intent
from goalwatch.config import Config
from goalwatch.core.findings import QualityReport
from goalwatch.core.status import status_label
from goalwatch.core.verdicts import Verdict

__all__ = ["ALERTING", "plan"]

log = logging.getLogger(__name__)

# Statuses that open a goal's message; on_track and data_issue never do by themselves.
ALERTING = ("at_risk", "off_track", "missed", "achieved")
TROUBLE = ("at_risk", "off_track")
_ATTEMPTS = 3  # plans made before the last one decides inside the transaction
Chart = Callable[[Verdict], "bytes | Later | None"]


@dataclass
class _Decisions:
    """What an evaluation changes, decided from the ledger's states before anything is written."""

    transitions: list[tuple[Verdict, str | None, str, bool]] = field(default_factory=list)  # v, before, after, silenced
    states: dict[str, State] = field(default_factory=dict)
    new_parents: dict[str, list[Verdict]] = field(default_factory=lambda: defaultdict(list))  # by channel
    replies: dict[int, list[tuple[Verdict, str]]] = field(default_factory=lambda: defaultdict(list))  # by message
    touched: set[int] = field(default_factory=set)
    stale: set[str] = field(default_factory=set)
    summary: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def charted(self) -> list[Verdict]:
        """One chart per message: its goal's, or in a shared message the goal furthest behind; and
        one with each final verdict."""
        out = [_worst(group) for group in self.new_parents.values()]
        for items in self.replies.values():
            finals = [v for v, kind in items if kind == "final"]
            if finals:
                out.append(_worst(finals))
        return out


def plan(
    verdicts: list[Verdict],
    reports: list[QualityReport],
    *,
    config: Config,
    ledger: Ledger,
    run_id: str | None = None,
    chart: Chart | None = None,
) -> dict[str, list[str]]:
    """Record the new states and transitions and the Slack calls they need; return a summary.

    ``chart(verdict)`` gives PNG bytes (or None): a new message and a final verdict get the
    goal's chart in their thread. Two evaluations planning at once take turns (``Ledger.planning``);
    one whose states another changed since it read them rolls back and plans again from them."""
    # A data issue is not a goal's status: it leaves the goal's state and messages as they were,
    # so once the data passes again its alerts resume from there (see _data_issues for the alert).
    totals = [v for v in verdicts if v.segment is None and v.status not in ("pending", "data_issue")]
    keys = [(v.goal, v.period_start, "") for v in totals]
    rules = [*config.silences, *ledger.silences()]
    pngs: dict[tuple[str, date], bytes | Later | None] = {}

    def decide(states: dict[tuple[str, date, str], State]) -> _Decisions:
        decided = _decide(totals, states, rules, config)
        if chart is not None:
            pngs.update({(v.goal, v.as_of): chart(v) for v in decided.charted() if (v.goal, v.as_of) not in pngs})
        return decided

    for attempt in range(1, _ATTEMPTS + 1):
        # Decided and drawn before the transaction opens: a chart takes a while, and the ledger's
        # rows wait for none. The last attempt decides inside it, so it cannot be overtaken.
        seen = ledger.states(keys) if attempt < _ATTEMPTS else None
        decided = None if seen is None else decide(seen)
        try:
            with ledger.planning() as conn:
                states = ledger.states(keys, conn=conn)
                if decided is None:
                    decided = decide(states)
                elif states != seen:
                    raise _Replan
                _write(conn, ledger, decided, totals, verdicts, reports, pngs=pngs, config=config, run_id=run_id)
        except _Replan:
            log.info("Another evaluation planned the same goals meanwhile; planning again (%d)", attempt)
            continue
        log.info("Planned: %s", dict(decided.summary) or "nothing new")
        return dict(decided.summary)
    raise AssertionError("unreachable: the last attempt plans under the lock")


class _Replan(Exception):
    """Another planner changed the states this plan was decided on: roll back and plan again."""


def _write(
    conn: Any,
    ledger: Ledger,
    decided: _Decisions,
    totals: list[Verdict],
    verdicts: list[Verdict],
    reports: list[QualityReport],
    *,
    pngs: dict[tuple[str, date], bytes | Later | None],
    config: Config,
    run_id: str | None,
) -> None:
    """Write what was decided, in the planning transaction ``conn``."""
    summary = decided.summary
    current = {v.goal: v for v in totals}
    for v, before, after, silenced in decided.transitions:
        ledger.add_transition(
            conn,
            goal=v.goal,
            period_start=v.period_start,
            segment="",
            before=before,
            after=after,
            as_of=v.as_of,
            run_id=run_id,
            silenced=silenced,
        )
    charts: list[tuple[int, Verdict]] = []
    for channel, group in decided.new_parents.items():
        posted = _post_group(conn, ledger, channel, group, config)
        for message_id, members, new in posted:
            for v in members:
                decided.states[v.goal] = replace(decided.states[v.goal], message_id=message_id)
            if new:
                summary["posted"] += [f"{v.goal}.{v.status}" for v in members]
        if posted[0][2]:
            charts.append((posted[0][0], _worst(group)))
    for message_id, items in decided.replies.items():
        finals = [v for v, kind in items if kind == "final"]
        if finals:
            charts.append((message_id, _worst(finals)))
    for message_id in sorted(decided.touched):
        if _update(conn, ledger, message_id, decided.states, current, config):
            summary["updated"].append(ledger.message_key(conn, message_id))
    for message_id, items in decided.replies.items():
        if _reply(conn, ledger, message_id, items, config):
            summary["replied"] += [f"{v.goal}.{kind}" for v, kind in items]
    for v in totals:
        if v.goal not in decided.stale:
            ledger.put_state(conn, decided.states[v.goal], as_of=v.as_of)
    for message_id, v in charts:
        if chart_intent(conn, ledger, message_id, v, pngs.get((v.goal, v.as_of))):
            summary["charts"].append(v.goal)
    _segments(conn, ledger, verdicts, run_id)
    _data_issues(conn, ledger, reports, verdicts, config, summary)


def _decide(
    totals: list[Verdict], states: dict[tuple[str, date, str], State], silences: Iterable[Any], config: Config
) -> _Decisions:
    """Each goal's new state, transition, and whether it needs a new message, a reply or an update."""
    decided = _Decisions()
    rules = list(silences)
    for v in totals:
        before = states.get((v.goal, v.period_start, ""))
        if before is not None and before.as_of is not None and v.as_of < before.as_of:
            # Already said for a later day (a replay of past days, a late rerun): nothing new.
            decided.stale.add(v.goal)
            decided.summary["older_than_ledger"].append(v.goal)
            continue
        label = status_label(v.status, v.severity)
        changed = before is None or before.label != label
        reason = silenced(rules, v)
        if changed and not (before is None and v.status == "on_track"):
            decided.transitions.append((v, before.label if before else None, label, reason is not None))
        message_id = before.message_id if before else None
        last = before.last_notified if before else None
        if reason is not None:
            decided.summary["silenced"].append(f"{v.goal} ({reason})")
            decided.states[v.goal] = State(v.goal, v.period_start, "", v.status, v.severity, message_id, last, True)
            continue
        notified = False
        if message_id is None:
            if v.status in ALERTING:
                decided.new_parents[v.channel].append(v)
                notified = True
        else:
            decided.touched.add(message_id)
            if changed or (before is not None and before.silenced):
                kind = (
                    "final"
                    if v.closed
                    else "resolved"
                    if v.status == "on_track" and before.status in TROUBLE
                    else "transition"
                )
                decided.replies[message_id].append((v, kind))
                notified = True
            elif _renotify_due(v, last, config.renotify_days):
                decided.replies[message_id].append((v, "reminder"))
                notified = True
        decided.states[v.goal] = State(
            v.goal, v.period_start, "", v.status, v.severity, message_id, v.as_of if notified else last, False
        )
    return decided


def silenced(rules: Iterable[Silence | Any], v: Verdict) -> str | None:
    """The reason a verdict is silenced on its as-of day, if it is (goals.yml's silences and the
    ledger's alike)."""
    for s in rules:
        if s.goal == v.goal and (s.segment is None or s.segment == v.segment) and v.as_of <= s.until:
            return s.reason
    return None


def _segments(conn: Any, ledger: Ledger, verdicts: list[Verdict], run_id: str | None) -> None:
    """Segments keep their own status and transitions in the ledger; they speak through their
    goal's message ("behind the gap"), not messages of their own."""
    rows = [v for v in verdicts if v.segment is not None and v.status != "pending"]
    states = ledger.states(((v.goal, v.period_start, v.segment) for v in rows), conn=conn)
    for v in rows:
        before = states.get((v.goal, v.period_start, v.segment))
        if before is not None and before.as_of is not None and v.as_of < before.as_of:
            continue
        label = status_label(v.status, v.severity)
        if (before is not None and before.label != label) or (before is None and v.status != "on_track"):
            ledger.add_transition(
                conn,
                goal=v.goal,
                period_start=v.period_start,
                segment=v.segment,
                before=before.label if before else None,
                after=label,
                as_of=v.as_of,
                run_id=run_id,
                silenced=False,
            )
        ledger.put_state(
            conn, State(v.goal, v.period_start, v.segment, v.status, v.severity, None, None, False), as_of=v.as_of
        )


def _worst(verdicts: list[Verdict]) -> Verdict:
    return min(verdicts, key=lambda v: (v.pace_ratio if v.pace_ratio == v.pace_ratio else 9.0, v.goal))


def _renotify_due(v: Verdict, last: date | None, days: int) -> bool:
    persistent = v.severity == "critical" or v.status == "missed"
    return persistent and last is not None and v.as_of >= last + timedelta(days=days)


def _mention(config: Config, v: Verdict) -> tuple[str, ...]:
    return config.goal(v.goal).notify.mention if (v.severity == "critical" or v.status == "missed") else ()


def _render(members: list[Verdict], config: Config, *, resolved: set[str] = frozenset()) -> list[dict[str, Any]]:
    """Payloads for a message holding ``members``: the first is the message, the rest continue it."""
    if len(members) == 1:
        v = members[0]
        return [render_verdict(v, mention=_mention(config, v), resolved=v.goal in resolved)]
    mentions = tuple(dict.fromkeys(m for v in members for m in _mention(config, v)))
    return render_group(members, mention=mentions, resolved=resolved)


def _post_group(
    conn: Any, ledger: Ledger, channel: str, group: list[Verdict], config: Config
) -> list[tuple[int, list[Verdict], bool]]:
    """Plan a message for ``group`` (and its continuations): each part's message id, its goals, and
    whether it is new. A part whose key exists is not planned again; its goals speak through it."""
    payloads = _render(group, config)
    out = []
    parent_id = None
    for payload, members in zip(payloads, _members(payloads, group)):
        first = members[0]
        period = first.period_start.isoformat()
        key = (
            f"{first.goal}.{period}.{first.status}"
            if len(group) == 1
            else f"group.{channel.strip('#')}.{period}.{first.goal}"
        )
        message_id = ledger.new_message(conn, channel=channel, key=key, parent_id=parent_id)
        new = message_id is not None
        if message_id is None:
            message_id = ledger.message_id(conn, key)
            assert message_id is not None
        else:
            ledger.add_intent(conn, kind="post", message_id=message_id, payload=payload, key=key, as_of=first.as_of)
        parent_id = parent_id or message_id
        out.append((message_id, members, new))
    return out


def _members(payloads: list[dict[str, Any]], group: list[Verdict]) -> list[list[Verdict]]:
    """Which goals each payload holds (payloads carry their goals' names in ``_goals``)."""
    by_name = {v.goal: v for v in group}
    return [[by_name[g] for g in p.pop("_goals", [v.goal for v in group])] for p in payloads]


def _update(
    conn: Any, ledger: Ledger, message_id: int, states: dict[str, State], current: dict[str, Verdict], config: Config
) -> bool:
    """Re-render a message with its goals' newest numbers; plan chat.update if it changed."""
    holders = {g for g, s in states.items() if s.message_id == message_id} | ledger.holders(conn, message_id)
    if not holders or any(g not in current or g not in states for g in holders):
        return False  # a goal of the message has no fresh verdict: keep the message as it is
    members = [current[g] for g in sorted(holders, key=list(current).index)]
    resolved = {v.goal for v in members if v.status == "on_track"}
    payload = _render(members, config, resolved=resolved)[0]
    payload.pop("_goals", None)
    if ledger.last_rendering(conn, message_id) == payload:
        return False
    key = ledger.message_key(conn, message_id)
    ledger.add_intent(
        conn, kind="update", message_id=message_id, payload=payload, key=f"{key}.update", as_of=members[0].as_of
    )
    return True


def _reply(conn: Any, ledger: Ledger, message_id: int, items: list[tuple[Verdict, str]], config: Config) -> bool:
    """Plan the reply (and its continuations) in a message's thread; whether any part is new."""
    channel = ledger.message_channel(conn, message_id)
    # Owners hear of a change into critical or missed; reminders and recoveries do not page them.
    mention = tuple(
        dict.fromkeys(m for v, kind in items if kind in ("transition", "final") for m in _mention(config, v))
    )
    v, kind = items[0]
    said = False
    for n, payload in enumerate(render_reply(items, channel=channel, mention=mention)):
        key = f"{v.goal}.{v.period_start.isoformat()}.{kind}.{v.as_of.isoformat()}.{v.status}" + (f".{n}" if n else "")
        reply_id = ledger.new_message(conn, channel=channel, key=key, parent_id=message_id)
        if reply_id is not None:  # else said already: the same change, the same day
            ledger.add_intent(conn, kind="post", message_id=reply_id, payload=payload, key=key, as_of=v.as_of)
            said = True
    return said


def _data_issues(
    conn: Any,
    ledger: Ledger,
    reports: list[QualityReport],
    verdicts: list[Verdict],
    config: Config,
    summary: dict[str, list[str]],
) -> None:
    """One message per metric and day whose data failed its checks."""
    for report in reports:
        if report.success:
            continue
        affected = [v for v in verdicts if report.metric in (v.metric, v.denominator) and v.segment is None]
        if not affected:
            continue
        key = data_alert(conn, ledger, report, goals=[v.goal for v in affected], config=config, as_of=affected[0].as_of)
        if key is not None:
            summary["data_issue"].append(key)
