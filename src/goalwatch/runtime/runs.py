"""Which day a run is about, from the run itself (its logical date, the events that triggered it,
its ``run_after``), never from the wall clock; and the evaluate DAG's sweep of the events
Airflow's scheduler left without a run.

Reads an Airflow task context as ``runtime.tasks`` does, and stays as light at import.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from goalwatch.config import Config
from goalwatch.core.periods import as_of_for
from goalwatch.errors import GoalwatchError
from goalwatch.runtime.events import Announcement, BadEvent, announcement, stranded

__all__ = [
    "NothingAnnounced",
    "announced",
    "goal_as_of",
    "resolve_as_of",
    "run_as_of",
    "run_moment",
    "sweep",
]

log = logging.getLogger(__name__)


def run_as_of(context: Mapping[str, Any], timezone: str, *, metrics: Collection[str] | None = None) -> date:
    """The day a run is about in ``timezone``, from the run itself, never from the wall clock.

    In order: the run's logical date; for an asset-triggered run, the newest day its good events
    announce (see :func:`announced`), each by its ``moment`` (the producing run's logical date) or
    else its ``as_of``; else the run's ``run_after``. An instant becomes the last day that had
    fully ended at that instant in ``timezone``. NothingAnnounced if every event was bad.
    """
    logical = context.get("logical_date")
    if logical is not None:
        return as_of_for(logical, timezone)
    return _announced_day(context, announced(context, metrics), timezone)


def announced(
    context: Mapping[str, Any], metrics: Collection[str] | None = None, *, quiet: bool = False
) -> list[Announcement]:
    """What the run's triggering asset events announce, however they came (ingest, REST, a Redis
    message). A bad event is one warning naming what was wrong, and is left out; when every event
    was bad there is nothing to judge: NothingAnnounced."""
    found: list[Announcement] = []
    bad = nudges = 0
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        for event in events:
            uri = getattr(getattr(event, "asset", None), "uri", None) or getattr(asset, "uri", None) or str(asset)
            if stranded(event.extra) is not None:
                nudges += 1  # the events it is about are in this run too
                continue
            try:
                found.append(announcement(uri, event.extra, metrics))
            except BadEvent as exc:
                bad += 1
                if not quiet:
                    log.warning("Ignored: %s", exc)
    run = context.get("dag_run")
    run_type = getattr(getattr(run, "run_type", None), "value", getattr(run, "run_type", None))
    if not found and not bad and not nudges and run_type == "asset_triggered":
        # Airflow can start an asset-triggered run whose events another run consumed: it
        # announces nothing, and its run_after (the clock) is no day to judge.
        raise NothingAnnounced("nothing to judge: the run carries no asset event")
    if (bad or nudges) and not found:
        raise NothingAnnounced(
            f"no verdict: the run's {bad} event(s) announced nothing goalwatch can judge"
            if bad
            else "nothing to judge: the events a sweep re-queued were judged by another run already"
        )
    return found


class NothingAnnounced(GoalwatchError):
    """Every event of an asset-triggered run was bad: the run judges nothing."""


def _announced_day(context: Mapping[str, Any], found: list[Announcement], timezone: str) -> date:
    """The newest day announced: an instant's last ended day in ``timezone``, or the day given."""
    days = [as_of_for(a.moment, timezone) if a.moment is not None else a.as_of for a in found]
    known = [day for day in days if day is not None]
    return max(known) if known else as_of_for(context["dag_run"].run_after, timezone)


def run_moment(context: Mapping[str, Any]) -> datetime:
    """The instant a run stands for: its logical date, else its ``run_after``."""
    return context.get("logical_date") or context["dag_run"].run_after


def goal_as_of(context: Mapping[str, Any], config: Config, *, quiet: bool = False) -> dict[str, str]:
    """Each goal's as-of day (goals may live in different time zones), as ISO dates for XCom.
    The run's events are read once: a bad one is one warning, not one per goal (none: ``quiet``,
    for the tasks after the one that said it)."""
    logical = context.get("logical_date")
    found = [] if logical is not None else announced(context, config.metrics, quiet=quiet)
    if found and not quiet:
        log.info(
            "Announced: %s", "; ".join(f"{a.metric} as of {a.moment or a.as_of or 'the run'} ({a.via})" for a in found)
        )
    return {
        g.name: (
            as_of_for(logical, config.timezone_of(g))
            if logical is not None
            else _announced_day(context, found, config.timezone_of(g))
        ).isoformat()
        for g in config.goals
    }


def resolve_as_of(context: Mapping[str, Any], config: Config, *, quiet: bool = False) -> dict[str, str]:
    """``goal_as_of`` for the evaluate DAG's first task: a run whose every event was bad is
    skipped (each bad event was one warning), so no task after it gives a verdict."""
    from airflow.sdk.exceptions import AirflowSkipException

    try:
        return goal_as_of(context, config, quiet=quiet)
    except NothingAnnounced as exc:
        raise AirflowSkipException(str(exc)) from None


def sweep(context: Mapping[str, Any], assets: list[Any], messages: Any) -> int:
    """Put the events Airflow's scheduler left without a run back on the ``messages`` asset.

    An event that lands while the scheduler creates a run for the events before it is neither in
    that run nor queued for the next one (the queue row it joined is deleted with the run's): it
    would wait for some later event. Such events landed after this run's newest event and before
    the run started, and no evaluate run consumed them; this task, the DAG's last, looks for them
    on every asset and, when there are any, emits one event on ``messages`` naming them
    (``runtime.events.stranded``): the run it starts carries them, as the scheduler gives a new run
    every event since its last. None: skipped, no event."""
    from airflow.sdk.exceptions import AirflowSkipException

    dag_run = context["dag_run"]
    mine = [e for events in (context.get("triggering_asset_events") or {}).values() for e in events]
    if not mine or dag_run.start_date is None:
        raise AirflowSkipException("not an asset-triggered run: nothing to sweep")
    since, until = max(e.timestamp for e in mine), dag_run.start_date
    try:
        seen = [
            e for a in assets for e in context["inlet_events"][a].after(since.isoformat()).before(until.isoformat())
        ]
    except Exception as exc:  # the sweep is a safety net: its own failure must not fail the run
        log.warning("Could not look for events left without a run (%s); the next run looks again", exc)
        raise AirflowSkipException("the events could not be read") from None
    left = [e.id for e in seen if not any(run.dag_id == dag_run.dag_id for run in e.created_dagruns)]
    if not left:
        raise AirflowSkipException("no event was left without a run")
    log.warning(
        "%d event(s) landed while Airflow created this run and were queued for none (ids %s): starting a run for them",
        len(left),
        ", ".join(map(str, left)),
    )
    context["outlet_events"][messages].extra = {"stranded": left}
    return len(left)
