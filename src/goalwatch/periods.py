"""Calendar periods and the run's as-of day. Pure: no Airflow, no I/O.

Used by pacing (which period a day falls in) and by the DAG tasks (which day a run is about).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["as_of_for", "period_bounds", "period_label"]


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """First and last day (both inclusive) of the ``period`` that contains ``day``."""
    if period == "day":
        return day, day
    if period == "week":  # ISO weeks: Monday to Sunday
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        start = day.replace(day=1)
        return start, _next_month(start) - timedelta(days=1)
    if period == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return start, _next_month(_next_month(_next_month(start))) - timedelta(days=1)
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise ValueError(f"unknown period {period!r}")


def period_label(period: str, start: date) -> str:
    """How a person names the period: 'Q4 2026', 'Nov 2026', 'week of 2026-11-09'."""
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if period == "month":
        return start.strftime("%b %Y")
    if period == "year":
        return str(start.year)
    if period == "week":
        return f"week of {start.isoformat()}"
    return start.isoformat()


def as_of_for(moment: datetime, timezone: str) -> date:
    """The last day that had fully ended, in ``timezone``, at ``moment``.

    A run at 00:15 local time on 16 November is about 15 November: that is the newest complete
    day. Tasks pass the run's logical date or ``run_after`` here, never the wall clock, so a rerun
    of the same run gives the same verdict.
    """
    if moment.tzinfo is None:
        raise ValueError("as_of_for needs an aware datetime")
    return moment.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
