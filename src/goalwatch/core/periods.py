"""Calendar periods and the run's as-of day. Pure: no Airflow, no I/O.

A :class:`Calendar` knows the fiscal year's first month and the first day of the week; it gives
the days (inclusive) of the day, week, month, quarter or year that holds a date, the period
before, the same period a year earlier, and the period's window as instants in a time zone (so a
month with a DST change lasts 743 or 745 hours). Days themselves are calendar dates in the goal's
time zone; a run's as-of day is the last one that had fully ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

__all__ = ["PERIODS", "WEEKDAYS", "Calendar", "Period", "as_of_for"]

Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[str, ...] = get_args(Period)
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Calendar:
    fiscal_year_start_month: int = 1  # 2 = the fiscal year starts on 1 February
    week_start: int = 0  # 0 = Monday ... 6 = Sunday

    def __post_init__(self) -> None:
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError("fiscal_year_start_month must be 1..12")
        if not 0 <= self.week_start <= 6:
            raise ValueError("week_start must be 0 (Monday) .. 6 (Sunday)")

    def bounds(self, period: str, day: date) -> tuple[date, date]:
        """First and last day (both inclusive) of the ``period`` that contains ``day``."""
        if period == "day":
            return day, day
        if period == "week":
            start = day - timedelta(days=(day.weekday() - self.week_start) % 7)
            return start, start + timedelta(days=6)
        if period == "month":
            start = day.replace(day=1)
            return start, _add_months(start, 1) - timedelta(days=1)
        if period in ("quarter", "year"):
            size = 3 if period == "quarter" else 12
            offset = (day.month - self.fiscal_year_start_month) % size
            start = _add_months(day.replace(day=1), -offset)
            return start, _add_months(start, size) - timedelta(days=1)
        raise ValueError(f"unknown period {period!r}")

    def previous(self, period: str, start: date) -> tuple[date, date]:
        """The period just before the one starting on ``start``."""
        return self.bounds(period, start - timedelta(days=1))

    def within(self, period: str, first: date, last: date) -> list[tuple[date, date]]:
        """Every ``period`` that lies wholly in ``first..last``, oldest first."""
        found, day = [], first
        while day <= last:
            start, end = self.bounds(period, day)
            if start >= first and end <= last:
                found.append((start, end))
            day = end + timedelta(days=1)
        return found

    def year_before(self, period: str, start: date) -> tuple[date, date]:
        """The same period one year earlier: Q4 2025 for Q4 2026, the same ISO-aligned week."""
        if period in ("day", "week"):
            return self.bounds(period, start - timedelta(days=364))
        return self.bounds(period, _add_months(start, -12))

    def label(self, period: str, start: date) -> str:
        """How a person names the period: 'Q4 2026', 'Nov 2026', 'FY2027 Q1', 'week of 2026-11-09'."""
        fiscal = self.fiscal_year_start_month != 1
        # A fiscal year is named by the calendar year it ends in.
        fy = (start.year + (1 if start.month >= self.fiscal_year_start_month else 0)) if fiscal else start.year
        if period == "quarter":
            q = (start.month - self.fiscal_year_start_month) % 12 // 3 + 1
            return f"FY{fy} Q{q}" if fiscal else f"Q{q} {start.year}"
        if period == "year":
            return f"FY{fy}" if fiscal else str(start.year)
        if period == "month":
            return start.strftime("%b %Y")
        if period == "week":
            return f"week of {start.isoformat()}"
        return start.isoformat()

    def window(self, period: str, day: date, timezone: str) -> tuple[datetime, datetime]:
        """The period holding ``day`` as instants ``[start, end)``: local midnights in ``timezone``.

        Subtract them in UTC (``end.astimezone(UTC) - start.astimezone(UTC)``) for the real hours:
        Python subtracts two times of one zone as wall clocks."""
        first, last = self.bounds(period, day)
        zone = ZoneInfo(timezone)
        return (datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone))


def as_of_for(moment: datetime, timezone: str) -> date:
    """The last day that had fully ended, in ``timezone``, at ``moment``.

    A run at 00:15 local time on 16 November is about 15 November: that is the newest complete
    day. Tasks pass the run's logical date or ``run_after`` here, never the wall clock, so a rerun
    of the same run gives the same verdict.
    """
    if moment.tzinfo is None:
        raise ValueError("as_of_for needs an aware datetime")
    return moment.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    """``day`` (the first of a month) moved by ``months`` months."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
