"""Bad-input fixtures: the demo's metrics written as CSV sources, each broken in one way.

A fixture is the demo warehouse's daily new users and revenue (with its currency), plus an
hourly new-users feed (one row per hour and region, timestamps with their UTC offset), and one
change that a broken pipeline would make. ``write`` puts its CSV files and a goals.yml that reads
them into a folder; the clean fixture passes every check.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import yaml

from tests.conftest import DEMO_LOGICAL_DATE, ROOT

ZONE = "America/Los_Angeles"
HOURLY_FIRST = date(2026, 1, 1)
SPRING_FORWARD = "2026-03-08"  # 23 hours in Los Angeles
FALL_BACK = "2026-11-01"  # 25 hours in Los Angeles
AFTER_DEADLINE = "2026-11-16T18:00:00+00:00"  # 10:00 in Los Angeles: past new users' 06:00 deadline
# Two days after clocks went forward (00:15 on 10 March in Los Angeles): only recent days are judged.
AFTER_SPRING_FORWARD = "2026-03-10T07:15:00+00:00"

Frames = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Fixture:
    name: str
    metric: str | None  # the metric whose data is broken; None for the clean fixture
    finding: str  # how the data-issue alert names the failed expectation
    change: Callable[[Frames], None]
    moment: str = DEMO_LOGICAL_DATE


def _on(frame: pd.DataFrame, day: str) -> pd.Series:
    return frame["day"] == day


def _missing_day(f: Frames) -> None:
    f["new_users"] = f["new_users"][~_on(f["new_users"], "2026-11-10")]


def _late_day(f: Frames) -> None:
    f["new_users"] = f["new_users"][~_on(f["new_users"], "2026-11-15")]


def _duplicates(f: Frames) -> None:
    rev = f["revenue"]
    f["revenue"] = pd.concat([rev, rev[_on(rev, "2026-11-12")].head(2)])


def _negative(f: Frames) -> None:
    rev = f["revenue"]
    rev.loc[rev[_on(rev, "2026-11-14")].index[0], "value"] = -5000.0


def _nan(f: Frames) -> None:
    users = f["new_users"]
    users.loc[users[_on(users, "2026-11-13")].index[0], "value"] = float("nan")


def _null_segment(f: Frames) -> None:
    users = f["new_users"]
    users.loc[users[_on(users, "2026-11-13")].index[1], "region"] = None


def _renamed(f: Frames) -> None:
    f["revenue"] = f["revenue"].rename(columns={"region": "country"})


def _mixed_currency(f: Frames) -> None:
    rev = f["revenue"]
    rev.loc[_on(rev, "2026-11-14") & (rev["region"] == "EU"), "currency"] = "EUR"


def _dst_23(f: Frames) -> None:
    hourly = f["new_users_hourly"]
    extra = pd.DataFrame({"hour": f"{SPRING_FORWARD}T02:00:00", "region": ["NA", "EU", "APAC"], "value": 4.0})
    f["new_users_hourly"] = pd.concat([hourly, extra])  # 02:00 does not exist that day: clocks skip it


def _dst_25(f: Frames) -> None:
    hourly = f["new_users_hourly"]
    f["new_users_hourly"] = hourly[hourly["hour"] != f"{FALL_BACK}T01:00:00-08:00"]  # the repeated hour lost


def _partial_day(f: Frames) -> None:
    users = f["new_users"]
    f["new_users"] = users[~_on(users, "2026-11-15") | (users["region"] == "NA")]


def _empty(f: Frames) -> None:
    f["revenue"] = f["revenue"].head(0)


def _spike(f: Frames) -> None:
    users = f["new_users"]
    users.loc[users[_on(users, "2026-11-12")]["value"].idxmax(), "value"] *= 100


FIXTURES = [
    Fixture("clean", None, "", lambda f: None),
    Fixture("missing_day", "new_users", "Missing days", _missing_day),
    Fixture("late_day", "new_users", "Data late", _late_day, moment=AFTER_DEADLINE),
    Fixture("duplicate_rows", "revenue", "Duplicate rows", _duplicates),
    Fixture("negative_revenue", "revenue", "Negative values", _negative),
    Fixture("nan_value", "new_users", "Rows without a value", _nan),
    Fixture("null_segment", "new_users", "Rows without a region", _null_segment),
    Fixture("renamed_column", "revenue", "The source's columns changed", _renamed),
    Fixture("mixed_currency", "revenue", "Amounts not in USD", _mixed_currency),
    Fixture("dst_23_hour_day", "new_users_hourly", "Days without their hours", _dst_23, moment=AFTER_SPRING_FORWARD),
    Fixture("dst_25_hour_day", "new_users_hourly", "Days without their hours", _dst_25),
    # Past its deadline: before it, a day with some of its rows is still arriving.
    Fixture("partial_day", "new_users", "Fewer rows than usual", _partial_day, moment=AFTER_DEADLINE),
    Fixture("empty_source", "revenue", "The source returned no rows", _empty),
    Fixture("absurd_spike", "new_users", "An absurd spike", _spike),
]
BAD = [f for f in FIXTURES if f.metric is not None]


@cache
def _base(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with sqlite3.connect(warehouse) as db:
        users = pd.read_sql_query(
            "SELECT date(created_at) AS day, region, plan, COUNT(*) AS value FROM signups GROUP BY 1, 2, 3", db
        )
        revenue = pd.read_sql_query(
            "SELECT date(paid_at) AS day, region, plan, currency, ROUND(SUM(amount), 2) AS value"
            " FROM payments GROUP BY 1, 2, 3, 4",
            db,
        )
    return users, revenue


def hourly(users: pd.DataFrame) -> pd.DataFrame:
    """Each region's daily new users spread over the hours the day had in Los Angeles, stamped
    with their UTC offset (so the repeated hour of a fall-back day is two rows)."""
    zone = ZoneInfo(ZONE)
    daily = users[users["day"] >= HOURLY_FIRST.isoformat()].groupby(["day", "region"])["value"].sum()
    rows = []
    for (day, region), total in daily.items():
        start = datetime.combine(date.fromisoformat(day), time(), zone).astimezone(ZoneInfo("UTC"))
        end = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), zone).astimezone(ZoneInfo("UTC"))
        hours = int((end - start).total_seconds() // 3600)
        base, extra = divmod(int(total), hours)
        for h in range(hours):
            stamp = (start + timedelta(hours=h)).astimezone(zone).isoformat()
            rows.append((stamp, region, float(base + (h < extra))))
    return pd.DataFrame(rows, columns=["hour", "region", "value"])


def frames(warehouse: Path) -> Frames:
    users, revenue = _base(warehouse)
    return {"new_users": users.copy(), "revenue": revenue.copy(), "new_users_hourly": hourly(users)}


def config_text() -> str:
    """The demo's goals.yml with its metrics read from CSV files, plus the hourly feed and a goal on it."""
    data = yaml.safe_load((ROOT / "config" / "goals.yml").read_text())
    for name, metric in data["metrics"].items():
        metric["source"] = {"path": f"{name}.csv"}
    data["metrics"]["new_users_hourly"] = {
        "description": "Accounts created per hour",
        "source": {"path": "new_users_hourly.csv"},
        "grain": "hour",
        "dimensions": ["region"],
        "values": {"region": ["NA", "EU", "APAC"]},
    }
    data["goals"].append(
        {
            "name": "monthly_new_users_hourly",
            "title": "New users this month (hourly feed)",
            "metric": "new_users_hourly",
            "period": "month",
            "pacing": "weekday",
            "target": 12000,
            "notify": {"channel": "#hourly-goals"},
        }
    )
    return yaml.safe_dump(data, sort_keys=False)


def write(fixture: Fixture, folder: Path, warehouse: Path) -> Path:
    """Write the fixture's sources and goals.yml into ``folder/config``; return goals.yml's path."""
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    data = frames(warehouse)
    fixture.change(data)
    for name, frame in data.items():
        frame.to_csv(config / f"{name}.csv", index=False)
    path = config / "goals.yml"
    path.write_text(config_text())
    return path
