"""A metric's days: how each day's data arrived, its rows and total against the weeks before.

Built by :func:`days_frame` for the data-quality suite's expectations marked ``meta.on: days``
(``checks.quality.validate_data``). pandas and numpy only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from goalwatch.core.periods import Calendar

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["DAYS_COLUMNS", "DAY_CHECKS", "days_frame"]


# How a day is compared with the days before it (the suite's ``meta.days``; edit them there).
# - A weekday is *usual* when it had rows in at least ``usual_weeks`` of the ``baseline_weeks``
#   weeks before (a B2B source may have none at weekends); only a usual day without rows is
#   missing or late.
# - A day's row count must lie between ``min_rows_share`` times the fewest and
#   ``max_rows_factor`` times the most rows the same weekday had in those weeks, and its total
#   below ``spike_factor`` times the median daily total over them.
# - Only the last ``recent_days`` days are judged: a day long past is not re-judged every run.
DAY_CHECKS = {
    "baseline_weeks": 4,
    "min_baseline_weeks": 2,
    "usual_weeks": 3,
    "min_rows_share": 0.5,
    "max_rows_factor": 2.0,
    "spike_factor": 10.0,
    "recent_days": 35,
}


DAYS_COLUMNS = [
    "day",
    "arrival",
    "due",
    "rows",
    "rows_low",
    "rows_high",
    "total",
    "total_high",
    "hours",
    "hours_in_day",
]


def days_frame(
    frame: pd.DataFrame,
    *,
    as_of: date | None,
    deadline: Callable[[date], datetime] | None = None,
    moment: datetime | None = None,
    timezone: str = "UTC",
    settings: Mapping[str, float] = DAY_CHECKS,
) -> pd.DataFrame:
    """One row per day judged: the last ``recent_days`` up to the later of the metric's last day
    and ``as_of`` (the baselines look further back).

    ``arrival`` is ``arrived``; ``quiet`` (no rows on a weekday that usually has none, see
    DAY_CHECKS); ``missing`` (no rows on a usual day before the last day with rows); ``late``
    (a usual day without rows after it, past its deadline); or ``not_due``: a day not past its
    deadline that has no rows or looks incomplete (too few rows, too few hours) is still
    arriving, and is judged once its deadline passes. Without a ``moment`` every deadline has
    passed.

    ``rows`` and ``total`` are the day's row count and sum; ``rows_low``/``rows_high`` and
    ``total_high`` the bounds the weeks before allow (empty until there are enough of them);
    ``hours`` the most hourly rows any segment had that day and ``hours_in_day`` the hours the
    day had in ``timezone``, where the source's same weekday had all its hours in the weeks
    before, or the day has more than it could.
    """
    import numpy as np
    import pandas as pd

    if "day" not in frame.columns or frame["day"].isna().all():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DAYS_COLUMNS})
    present = frame.dropna(subset=["day"])
    first, last = min(present["day"]), max(present["day"])
    end = max(last, as_of) if as_of is not None else last
    index = pd.Index([first + timedelta(days=i) for i in range((end - first).days + 1)], name="day")
    grouped = present.groupby("day")
    rows = grouped.size().reindex(index, fill_value=0)
    total = (grouped["value"].sum(min_count=1) if "value" in present.columns else pd.Series(dtype=float)).reindex(index)
    out = pd.DataFrame({"rows": rows.astype(int), "total": total.astype(float)}, index=index)
    weeks, least = int(settings["baseline_weeks"]), int(settings["min_baseline_weeks"])
    weekday = np.array([d.weekday() for d in index])
    after = np.array([d > last for d in index])

    before = functools.partial(_same_weekday, weekday=weekday, weeks=weeks)
    usual = _usual(out, after, weekday, before, usual_weeks=float(settings["usual_weeks"]))
    arrived = (out["rows"] > 0).to_numpy()
    due = [deadline(d) if deadline is not None else None for d in index]
    passed = np.array([moment is None or (t is not None and moment >= t) for t in due])
    counts = out["rows"].where(arrived)
    out["rows_low"] = np.ceil(before(counts, "min", periods=least) * float(settings["min_rows_share"])).where(arrived)
    out["rows_high"] = np.ceil(before(counts, "max", periods=least) * float(settings["max_rows_factor"])).where(arrived)
    median_total = out["total"].where(arrived).shift(1).rolling(7 * weeks, min_periods=7 * least).median()
    out["total_high"] = (median_total * float(settings["spike_factor"])).where(median_total > 0)
    out["hours"], out["hours_in_day"] = _hours(present, index, arrived, before, timezone)
    short = (out["rows"] < out["rows_low"]) | (out["hours"] < out["hours_in_day"])
    arriving = (arrived & short.to_numpy() & ~passed) | (~arrived & after & usual & ~passed)
    out["arrival"] = np.select(
        [arriving, arrived, ~usual, ~after, passed],
        ["not_due", "arrived", "quiet", "missing", "late"],
        default="not_due",
    )
    for column in ("rows_low", "rows_high", "hours_in_day"):
        out.loc[arriving, column] = np.nan
    out["due"] = [t.strftime("%Y-%m-%d %H:%M %Z") if t is not None and a else None for t, a in zip(due, after)]
    recent = int(settings["recent_days"])
    out = out[[d > end - timedelta(days=recent) for d in index]].reset_index()
    out["day"] = out["day"].map(date.isoformat)
    return out[DAYS_COLUMNS]


def _same_weekday(series: pd.Series, how: str, *, weekday: np.ndarray, weeks: int, periods: int = 1) -> pd.Series:
    """``how`` (sum, count, min, max, median) of the same weekday over the ``weeks`` weeks before."""
    return series.groupby(weekday).transform(lambda s: getattr(s.shift(1).rolling(weeks, min_periods=periods), how)())


def _usual(
    out: pd.DataFrame, after: np.ndarray, weekday: np.ndarray, before: Callable[..., pd.Series], *, usual_weeks: float
) -> np.ndarray:
    """Whether each day's weekday usually has rows: in at least ``usual_weeks`` of the weeks before.

    Days after the last arrival take the weeks before it, so an outage never makes its own
    weekdays look usually quiet; a weekday never seen is usual after the last arrival (a new
    metric waits, then turns late) and not judged before it."""
    import numpy as np

    had = (out["rows"] > 0).astype(float).where(~after)
    prior = before(had, "sum").where(~after).groupby(weekday).ffill().fillna(0)
    known = before(had, "count").where(~after).groupby(weekday).ffill().fillna(0)
    return ((known > 0) & (prior >= np.minimum(usual_weeks, known))).to_numpy() | (after & (known == 0).to_numpy())


def _hours(
    present: pd.DataFrame, index: pd.Index, arrived: np.ndarray, before: Callable[..., pd.Series], timezone: str
) -> tuple[pd.Series | float, pd.Series | float]:
    """An hourly source's ``hours`` (the most hourly rows a segment had that day) and
    ``hours_in_day`` (the hours the day had, where its weekday had all its hours in the weeks
    before, or the day has more than it could); NaN for a daily source."""
    import pandas as pd

    if "hours" not in present.columns:
        return float("nan"), float("nan")
    keys = ["day", *[c for c in present.columns if c not in ("day", "value", "hours")]]
    hours = present.groupby(keys, dropna=False)["hours"].sum().groupby(level=0).max().reindex(index)
    possible = pd.Series([_hours_in(d, timezone) for d in index], index=index, dtype=float)
    complete = (hours == possible).astype(float).where(arrived)
    always = before(complete, "min") == 1
    return hours, possible.where(arrived & (always | (hours > possible)))


def _hours_in(day: date, timezone: str) -> int:
    """The hours ``day`` had in ``timezone``: 24, or 23 and 25 on the days clocks change."""
    start, end = Calendar().window("day", day, timezone)
    return round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600)
