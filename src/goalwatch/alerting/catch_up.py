"""Final verdicts that catch up: a period that ended without its final verdict is judged as of its
last day, and its verdict is said (once) before the new period's alerts.

A period's final verdict (achieved or missed) is given by the evaluation as of its last day. That
day can go unjudged: its data not yet due when the run came (so the run judged the day before),
late past the next day, or the pipeline down across the period's end; the next run's as-of day
is in the new period, and nothing else would judge the old one. So each run, before its own
alerts:

- **Which periods.** For each goal, only the period just before the one its run's verdict is
  about, and only when the ledger holds a state for the goal's total in that period whose status
  is not final (not achieved or missed): goalwatch was watching it and never closed it. A final
  recorded under a silence counts as closed. A first install, a goal added today, or a period
  goalwatch never said anything about judges no history; nor does a period two or more back (the
  pipeline down longer than a whole period): its message stays as last said.
- **How they are judged.** As of the period's last day on the stored data up to it, by the
  evaluate path itself (``pipeline.judge_period_ends``): the data checks as of that day and the
  run's instant, pacing, the goal checks, the statuses. So missing data follows the rules every
  run follows: a last day not past its deadline yet is still arriving, and the period waits for
  a later run; a last day missing past its deadline is *late*, a data issue, never a missed goal,
  and the period stays open, so once the data is backfilled (while it is still the previous
  period) a later run gives the final. That data issue is said once (its key names the metric
  and the period's last day) unless the run's own checks fail for the same metric and say it.
- **Once, and first.** :func:`plan_catch_up` plans the closed verdicts through ``alerting.plan``
  before the run plans its own, so their intents come first. They are planned in a call of their
  own: ``plan`` keeps one state per goal in a call, and a goal's old and new period are two. The
  ledger's keys (``<goal>.<period>.final.<day>.<status>``, and the state written as of the last
  day, which is final) make a rerun, or the next day's run, plan nothing more.

Called by ``runtime.tasks`` (the evaluate DAG's ``catch_up`` and ``notify`` tasks), by
``goalwatch evaluate`` (which prints the caught-up verdicts first and sends nothing) and by
``goalwatch replay --notify`` for each replayed day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

from goalwatch.alerting.ledger import Ledger
from goalwatch.alerting.plan import plan
from goalwatch.config import Config
from goalwatch.core.findings import QualityReport
from goalwatch.core.verdicts import Verdict

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FINAL", "due", "judge", "plan_catch_up"]

log = logging.getLogger(__name__)

FINAL = ("achieved", "missed")


def due(config: Config, ledger: Ledger, verdicts: Iterable[Verdict]) -> dict[str, date]:
    """For each goal of the run's ``verdicts`` whose previous period is to catch up, that period's
    last day."""
    previous: dict[str, tuple[date, date]] = {}
    for v in verdicts:
        if v.segment is None and v.goal not in previous:
            previous[v.goal] = config.calendar.previous(config.goal(v.goal).period, v.period_start)
    states = ledger.states((goal, start, "") for goal, (start, _) in previous.items())
    out = {
        goal: end
        for goal, (start, end) in previous.items()
        if (state := states.get((goal, start, ""))) is not None and state.status not in FINAL
    }
    if out:
        log.info("Final verdicts to catch up: %s", {g: d.isoformat() for g, d in out.items()})
    return out


def judge(
    config: Config,
    ledger: Ledger,
    verdicts: Iterable[Verdict],
    frames: Callable[[Mapping[str, date]], Mapping[str, pd.DataFrame]],
    *,
    moment: datetime | None = None,
) -> tuple[list[Verdict], list[QualityReport]]:
    """The periods :func:`due` finds, judged as of their last days (see
    ``pipeline.judge_period_ends``). ``frames(days)`` gives the metrics up to the newest of the
    goals' ``days``, and is called only when a period is due."""
    from goalwatch.pipeline import judge_period_ends

    ends = due(config, ledger, verdicts)
    if not ends:
        return [], []
    return judge_period_ends(config, frames(ends), ends, moment=moment)


def plan_catch_up(
    verdicts: list[Verdict],
    reports: list[QualityReport],
    *,
    config: Config,
    ledger: Ledger,
    run_id: str | None = None,
    chart: Callable[[Verdict], bytes | None] | None = None,
    already: Iterable[QualityReport] = (),
) -> dict[str, list[str]]:
    """Plan what :func:`judge` found, one period end at a time (oldest first), before the run plans
    its own alerts; the summary of what was planned. A failed report is said unless the run's own
    report of its metric (in ``already``) failed too: that one says the data problem."""
    told = {r.metric for r in already if not r.success}
    by_end: dict[date, tuple[list[Verdict], list[QualityReport]]] = defaultdict(lambda: ([], []))
    for v in verdicts:
        by_end[v.as_of][0].append(v)
    for r in reports:
        if r.metric not in told and r.as_of:
            by_end[date.fromisoformat(r.as_of)][1].append(r)
    summary: dict[str, list[str]] = defaultdict(list)
    for day in sorted(by_end):
        day_verdicts, day_reports = by_end[day]
        for key, items in plan(
            day_verdicts, day_reports, config=config, ledger=ledger, run_id=run_id, chart=chart
        ).items():
            summary[key] += items
    return dict(summary)
