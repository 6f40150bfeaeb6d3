"""Data quality: the default suite of a metric, generated from goals.yml, and running it on the
metric's stored rows and on its days.

Called by ``evaluation.check_data`` (the evaluate DAG's ``check_data`` task, ``goalwatch
evaluate`` and ``replay``) and by ``goalwatch suites write``. A failure becomes a
:class:`Finding` in words, with example rows; a metric's :class:`QualityReport` decides whether
its goals may be judged (see ``evaluation.pace_goals``) and what its owners are told
(``messages.render_data_issue``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from goalwatch.config import Metric
from goalwatch.checks.suites import expectation, run_suite

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DAY_CHECKS", "Finding", "QualityReport", "data_quality_suite", "days_frame", "merge_suite", "validate_data"]

EXAMPLES = 5  # example rows (or days) named per failed expectation


# How a day is compared with the days before it (the suite's ``meta.days``; edit them there).
# - A weekday is *usual* when it had rows in at least ``usual_weeks`` of the ``baseline_weeks``
#   weeks before (a B2B source may have none at weekends); only a usual day without rows is
#   missing or late.
# - A day's row count must lie between ``min_rows_share`` times the fewest and
#   ``max_rows_factor`` times the most rows the same weekday had in those weeks, and its total
#   below ``spike_factor`` times the median daily total over them.
# - Only the last ``recent_days`` days are judged: a day long past is not re-judged every run.
DAY_CHECKS = {"baseline_weeks": 4, "min_baseline_weeks": 2, "usual_weeks": 3, "min_rows_share": 0.5,
              "max_rows_factor": 2.0, "spike_factor": 10.0, "recent_days": 35}


def data_quality_suite(name: str, metric: Metric) -> dict[str, Any]:
    """The default data-quality suite of a metric, generated from its config.

    Most expectations run on the rows as ingested. Those with ``meta.on: days`` run on the
    metric's days instead (see :func:`days_frame`): one row per day from the first to the run's
    day, with how the data arrived, its row count and total against the trailing baseline, and,
    for an hourly source, its hours. ``description`` is what the data-issue alert calls a failure.
    """
    columns = list(metric.columns)
    keys = ["day", *metric.dimensions, *(["currency"] if metric.currency else [])]
    exps: list[dict[str, Any]] = [
        expectation("expect_table_columns_to_match_set", {"column_set": columns, "exact_match": True},
             description="The source's columns changed (a renamed, missing or new column)"),
        expectation("expect_table_row_count_to_be_between", {"min_value": 1}, description="The source returned no rows"),
    ]
    exps += [expectation("expect_column_values_to_not_be_null", {"column": c}, description=f"Rows without a {c}")
             for c in columns]
    if metric.non_negative:
        exps.append(expectation("expect_column_values_to_be_between", {"column": "value", "min_value": 0},
                         description="Negative values"))
    duplicates = f"Duplicate rows: more than one per {' × '.join(keys)}"
    if len(keys) > 1:
        exps.append(expectation("expect_compound_columns_to_be_unique", {"column_list": keys}, description=duplicates))
    else:
        exps.append(expectation("expect_column_values_to_be_unique", {"column": "day"}, description=duplicates))
    for dim, allowed in metric.values.items():
        exps.append(expectation("expect_column_values_to_be_in_set", {"column": dim, "value_set": list(allowed)},
                         description=f"Unknown {dim} values"))
    if metric.currency:
        exps.append(expectation("expect_column_values_to_be_in_set", {"column": "currency", "value_set": [metric.currency]},
                         description=f"Amounts not in {metric.currency} (mixed currencies)"))

    def on_days(kind: str, kwargs: dict[str, Any], description: str, check: str | None = None) -> dict[str, Any]:
        exp = expectation(kind, kwargs, description=description, check=check)
        exp["meta"]["on"] = "days"
        return exp

    pair = {"ignore_row_if": "either_value_is_missing"}
    exps += [
        on_days("expect_column_values_to_not_be_in_set", {"column": "arrival", "value_set": ["late"]},
                "Data late: a day had not arrived by its deadline", check="late"),
        on_days("expect_column_values_to_not_be_in_set", {"column": "arrival", "value_set": ["missing"]},
                "Missing days: no rows for a day between days that have rows", check="missing"),
        on_days("expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": "rows", "column_B": "rows_low", "or_equal": True, **pair},
                "Fewer rows than usual for a day (a partial day?)"),
        on_days("expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": "rows_high", "column_B": "rows", "or_equal": True, **pair},
                "More rows than usual for a day"),
        on_days("expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": "total_high", "column_B": "total", "or_equal": True, **pair},
                "An absurd spike: a day's total far above the days before it"),
    ]
    if metric.grain == "hour":
        exps.append(on_days("expect_column_pair_values_to_be_equal",
                            {"column_A": "hours", "column_B": "hours_in_day", **pair},
                            "Days without their hours: hourly rows do not match the hours the day had"))
    for exp in exps:
        exp["meta"]["generated"] = _fingerprint(exp["kwargs"])
    return {"name": f"data_quality.{name}", "expectations": exps,
            "meta": {"metric": name, "days": dict(DAY_CHECKS)}}


def merge_suite(existing: dict[str, Any], default: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """``existing`` brought up to date with goals.yml, keeping your edits.

    A default check the file lacks is appended. A check the file has (same kind, columns and
    finding) whose arguments are still as generated (``meta.generated`` is their fingerprint)
    takes the new default's arguments (a value added to ``values`` in goals.yml, a new
    dimension in the column set), or goes when goals.yml no longer asks for it. A check whose
    arguments you edited, or that you added, is kept as you wrote it, and so are descriptions,
    severities and ``meta.enabled``. Returns the suite and how many checks were added and
    refreshed.
    """
    wanted = {_identity(e) for e in default["expectations"]}
    expectations = [dict(e) for e in existing.get("expectations", [])
                    if _identity(e) in wanted or not _unedited(e)]  # goals.yml no longer asks for it
    by_identity = {_identity(e): e for e in expectations}
    added = refreshed = 0
    for exp in default["expectations"]:
        have = by_identity.get(_identity(exp))
        if have is None:
            expectations.append(exp)
            added += 1
        elif _unedited(have) and have["kwargs"] != exp["kwargs"]:
            have["kwargs"] = exp["kwargs"]
            have["meta"] = {**(have.get("meta") or {}), "generated": exp["meta"]["generated"]}
            refreshed += 1
    meta = {**default.get("meta", {}), **existing.get("meta", {})}
    return {**existing, "expectations": expectations, "meta": meta}, added, refreshed


def _unedited(exp: Mapping[str, Any]) -> bool:
    """Generated by goalwatch, and its arguments still as generated."""
    return (exp.get("meta") or {}).get("generated") == _fingerprint(exp.get("kwargs"))


def _fingerprint(kwargs: Any) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(kwargs, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _identity(exp: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two expectations the same check: kind, columns, where it runs, the finding."""
    kwargs = exp.get("kwargs") or {}
    meta = exp.get("meta") or {}
    where = tuple(str(kwargs.get(k)) for k in ("column", "column_A", "column_B") if k in kwargs)
    return exp.get("type"), where, meta.get("on", "rows"), meta.get("check")


@dataclass(frozen=True)
class Finding:
    """One failed expectation, in words, with a few of the rows (or days) that broke it."""

    expectation: str
    column: str | None
    unexpected: int
    examples: tuple[str, ...] = ()
    title: str = ""  # the expectation's description: what the alert calls the failure
    on: str = "rows"  # "rows" as ingested, or "days" (see days_frame)
    late: bool = False  # days that had not arrived by their deadline (``arrival`` is ``late``)

    def describe(self) -> str:
        where = f" on `{self.column}`" if self.column else ""
        what = ("day" if self.on == "days" else "row") + ("s" if self.unexpected != 1 else "")
        head = f"{self.title} ({self.expectation}{where})" if self.title else f"{self.expectation}{where}"
        if self.unexpected:
            return f"{head}: {self.unexpected} {what}, e.g. {'; '.join(self.examples)}"
        return f"{head}: {'; '.join(self.examples)}" if self.examples else head


@dataclass(frozen=True)
class QualityReport:
    metric: str
    rows: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    version: str | None = None  # the ingest the checked rows came from (see Store.versions)
    # The last day the data is complete through, when later days are not due yet: goals on the
    # metric are judged as of that day until they arrive (or turn late).
    through: str | None = None
    as_of: str | None = None  # the run's day the data was checked as of

    @property
    def success(self) -> bool:
        return not self.findings

    @property
    def late(self) -> bool:
        """Only late: every finding is a day that has not arrived by its deadline."""
        return bool(self.findings) and all(f.late for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        findings = tuple(Finding(**{**f, "examples": tuple(f["examples"])}) for f in data["findings"])
        return cls(metric=data["metric"], rows=data["rows"], findings=findings, version=data.get("version"),
                   through=data.get("through"), as_of=data.get("as_of"))


def validate_data(metric: str, frame: pd.DataFrame, suite: Mapping[str, Any], *, as_of: date | None = None,
                  deadline: Callable[[date], datetime] | None = None, moment: datetime | None = None,
                  timezone: str = "UTC") -> QualityReport:
    """Run a metric's data-quality suite on its stored rows (and its days); failures name the
    rows or days that broke them.

    ``as_of`` is the run's day: days after the last one with rows, up to it, are late once
    ``moment`` is past their ``deadline`` (always, without a moment), and otherwise not due yet.
    """
    frame = frame.reset_index(drop=True)
    rows_frame = frame.drop(columns=["hours"], errors="ignore")
    settings = {**DAY_CHECKS, **((suite.get("meta") or {}).get("days") or {})}
    days = days_frame(frame, as_of=as_of, deadline=deadline, moment=moment, timezone=timezone, settings=settings)
    exps = [e for e in suite["expectations"] if (e.get("meta") or {}).get("enabled", True) is not False]
    findings = []
    for on, checked in (("rows", rows_frame), ("days", days)):
        part = [e for e in exps if (e.get("meta") or {}).get("on", "rows") == on]
        if not part:
            continue
        sub = {**suite, "name": f"{suite['name']}.{on}", "expectations": part}
        for res in run_suite(sub, checked, parameters={}, index_columns=None):
            if not res.success:
                finding = _finding(res, checked, on)
                if finding is not None:
                    findings.append(finding)
    # Complete through the day before the first one still to come (only worth saying when the
    # data passes: a report that fails gives no verdict at all).
    waiting = days[days["arrival"].isin(["not_due", "late"])]["day"] if len(days) and not findings else []
    through = None
    if len(waiting) and (days["arrival"] == "not_due").any():
        through = (date.fromisoformat(min(waiting)) - timedelta(days=1)).isoformat()
    return QualityReport(metric=metric, rows=len(frame), findings=tuple(findings), through=through,
                         as_of=as_of.isoformat() if as_of else None)


def _finding(res: Any, frame: pd.DataFrame, on: str) -> Finding | None:
    config = res.expectation_config
    kwargs = config.kwargs
    named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + list(kwargs.get("column_list") or [])
    if _raised(res):
        if any(c not in frame.columns for c in named):
            return None  # a missing column: the schema expectation reports it
        raise_message = next((i.get("exception_message") for i in _exception_infos(res) if i.get("raised_exception")), "")
        return Finding(expectation=config.type, column=None, unexpected=0, examples=(f"could not run: {raise_message}",),
                       title=config.description or "", on=on)
    column = kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
    if column is None and "column_A" in kwargs:
        column = f"{kwargs['column_A']},{kwargs['column_B']}"
    result = res.result or {}
    indexes = result.get("unexpected_index_list") or result.get("partial_unexpected_index_list") or []
    shown = ["day", *named] if on == "days" else None
    if on == "days" and "late" in (kwargs.get("value_set") or ()):
        shown = ["day", "arrival", "due"]
    examples = tuple(_example(frame, row, shown) for row in indexes[:EXAMPLES])
    if config.type == "expect_table_columns_to_match_set":
        mismatched = (result.get("details") or {}).get("mismatched") or {}
        examples = tuple([*(f"missing column {c}" for c in mismatched.get("missing") or ()),
                          *(f"unexpected column {c}" for c in mismatched.get("unexpected") or ())])
    elif config.type == "expect_table_row_count_to_be_between":
        examples = (f"{result.get('observed_value')} rows",)
    late = on == "days" and kwargs.get("column") == "arrival" and "late" in (kwargs.get("value_set") or ())
    return Finding(expectation=config.type, column=column, unexpected=int(result.get("unexpected_count") or 0),
                   examples=examples, title=config.description or "", on=on, late=late)


def _exception_infos(res: Any) -> list[dict[str, Any]]:
    info = res.exception_info or {}
    if "raised_exception" in info:
        return [info]
    return [v for v in info.values() if isinstance(v, dict)]


def _raised(res: Any) -> bool:
    return any(i.get("raised_exception") for i in _exception_infos(res))


DAYS_COLUMNS = ["day", "arrival", "due", "rows", "rows_low", "rows_high", "total", "total_high", "hours", "hours_in_day"]


def days_frame(frame: pd.DataFrame, *, as_of: date | None, deadline: Callable[[date], datetime] | None = None,
               moment: datetime | None = None, timezone: str = "UTC",
               settings: Mapping[str, float] = DAY_CHECKS) -> pd.DataFrame:
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

    def before(series: pd.Series, how: str, *, periods: int = 1) -> pd.Series:
        """``how`` (sum, count, min, max, median) of the same weekday over the weeks before."""
        return series.groupby(weekday).transform(
            lambda s: getattr(s.shift(1).rolling(weeks, min_periods=periods), how)())

    # Days after the last arrival take the weeks before it, so an outage never makes its own
    # weekdays look usually quiet; a weekday never seen is usual after the last arrival (a new
    # metric waits, then turns late) and not judged before it.
    had = (out["rows"] > 0).astype(float).where(~after)
    prior = before(had, "sum").where(~after).groupby(weekday).ffill()
    known = before(had, "count").where(~after).groupby(weekday).ffill()
    prior, known = prior.fillna(0), known.fillna(0)
    usual = ((known > 0) & (prior >= np.minimum(float(settings["usual_weeks"]), known))).to_numpy() | (after & (known == 0)).to_numpy()
    arrived = (out["rows"] > 0).to_numpy()
    due = [deadline(d) if deadline is not None else None for d in index]
    passed = np.array([moment is None or (t is not None and moment >= t) for t in due])
    counts = out["rows"].where(arrived)
    out["rows_low"] = np.ceil(before(counts, "min", periods=least) * float(settings["min_rows_share"])).where(arrived)
    out["rows_high"] = np.ceil(before(counts, "max", periods=least) * float(settings["max_rows_factor"])).where(arrived)
    median_total = out["total"].where(arrived).shift(1).rolling(7 * weeks, min_periods=7 * least).median()
    out["total_high"] = (median_total * float(settings["spike_factor"])).where(median_total > 0)
    if "hours" in present.columns:
        keys = ["day", *[c for c in present.columns if c not in ("day", "value", "hours")]]
        out["hours"] = present.groupby(keys, dropna=False)["hours"].sum().groupby(level=0).max().reindex(index)
        possible = pd.Series([_hours_in(d, timezone) for d in index], index=index, dtype=float)
        complete = (out["hours"] == possible).astype(float).where(arrived)
        always = before(complete, "min") == 1
        out["hours_in_day"] = possible.where(arrived & (always | (out["hours"] > possible)))
    else:
        out["hours"] = np.nan
        out["hours_in_day"] = np.nan
    short = (out["rows"] < out["rows_low"]) | (out["hours"] < out["hours_in_day"])
    arriving = (arrived & short.to_numpy() & ~passed) | (~arrived & after & usual & ~passed)
    out["arrival"] = np.select([arriving, arrived, ~usual, ~after, passed],
                               ["not_due", "arrived", "quiet", "missing", "late"], default="not_due")
    for column in ("rows_low", "rows_high", "hours_in_day"):
        out.loc[arriving, column] = np.nan
    out["due"] = [t.strftime("%Y-%m-%d %H:%M %Z") if t is not None and a else None for t, a in zip(due, after)]
    recent = int(settings["recent_days"])
    out = out[[d > end - timedelta(days=recent) for d in index]].reset_index()
    out["day"] = out["day"].map(date.isoformat)
    return out[DAYS_COLUMNS]


def _hours_in(day: date, timezone: str) -> int:
    from zoneinfo import ZoneInfo

    zone, utc = ZoneInfo(timezone), ZoneInfo("UTC")
    start = datetime.combine(day, time(), zone).astimezone(utc)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(utc)
    return round((end - start).total_seconds() / 3600)  # in UTC: aware times in one zone subtract as wall clocks


def _example(frame: pd.DataFrame, row: Any, columns: list[str] | None = None) -> str:
    index = row if isinstance(row, int) else None
    if index is None or index >= len(frame):
        return str(row)
    record = frame.iloc[index].to_dict()
    if columns is not None:
        return ", ".join(f"{k}={_plain(record[k])}" for k in dict.fromkeys(columns) if k in record)
    return f"row {index}: " + ", ".join(f"{k}={_plain(v)}" for k, v in record.items())


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return "empty" if value != value else f"{value:.10g}"
    return "empty" if value is None else str(value)
