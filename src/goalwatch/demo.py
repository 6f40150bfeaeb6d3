"""The demo warehouse: a deterministic SQLite database of daily sign-ups and payments.

Called by ``goalwatch demo seed`` (and so by ``make demo`` and the tests). The history runs from
1 July 2024 to 15 November 2026 with a weekday pattern, a yearly season and steady growth until
mid-2026, when growth stalls: Q4 2026 falls behind the quarter's targets for new users and for
revenue. The same seed always writes the same rows.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

__all__ = ["DEMO_AS_OF", "DEMO_FIRST_DAY", "seed"]

DEMO_FIRST_DAY = date(2024, 7, 1)
DEMO_AS_OF = date(2026, 11, 15)
SEED = 20261115
REGIONS = {"NA": 0.45, "EU": 0.35, "APAC": 0.20}
PLANS = {"starter": (0.70, 19.0), "pro": (0.25, 49.0), "enterprise": (0.05, 399.0)}
# Monday first: more sign-ups early in the week, fewer at the weekend.
WEEKDAY = (1.16, 1.12, 1.08, 1.03, 0.95, 0.78, 0.88)
STALL = date(2026, 6, 1)


def _level(day: date) -> float:
    """Growth of 3% a month until the stall, then a slow decline of 1% a month."""
    months = (min(day, STALL) - DEMO_FIRST_DAY).days / 30.44
    after = max((day - STALL).days, 0) / 30.44
    return 1.03**months * 0.99**after


def _season(day: date) -> float:
    import math

    # Busy in late winter and autumn, quiet around midsummer and the year-end holidays.
    doy = day.timetuple().tm_yday
    holiday = 0.75 if (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 2) else 1.0
    return (1 + 0.12 * math.cos(2 * math.pi * (doy - 45) / 365.25) ** 2 - 0.06) * holiday


def seed(path: Path, *, first: date = DEMO_FIRST_DAY, last: date = DEMO_AS_OF) -> Path:
    """Write the demo warehouse to ``path`` (replacing it) and return the path."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    signups: list[tuple[str, str, str]] = []
    payments: list[tuple[str, str, str, float]] = []
    day = first
    while day <= last:
        shape = _level(day) * _season(day) * WEEKDAY[day.weekday()]
        for region, region_share in REGIONS.items():
            for plan, (plan_share, price) in PLANS.items():
                new = int(rng.poisson(240 * shape * region_share * plan_share))
                paid = int(rng.poisson(300 * _level(day) * _season(day) * region_share * plan_share))
                stamps = np.sort(rng.integers(0, 86_400, size=new + paid))
                start = datetime.combine(day, datetime.min.time())
                for s in stamps[:new]:
                    signups.append(((start + timedelta(seconds=int(s))).isoformat(" "), region, plan))
                amounts = rng.lognormal(mean=np.log(price), sigma=0.15, size=paid)
                for s, amount in zip(stamps[new:], amounts):
                    payments.append(
                        ((start + timedelta(seconds=int(s))).isoformat(" "), region, plan, round(float(amount), 2))
                    )
        day += timedelta(days=1)
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE signups (
                user_id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, region TEXT NOT NULL, plan TEXT NOT NULL);
            CREATE TABLE payments (
                payment_id INTEGER PRIMARY KEY, paid_at TEXT NOT NULL, region TEXT NOT NULL,
                plan TEXT NOT NULL, amount_usd REAL NOT NULL);
            """
        )
        db.executemany("INSERT INTO signups (created_at, region, plan) VALUES (?, ?, ?)", signups)
        db.executemany("INSERT INTO payments (paid_at, region, plan, amount_usd) VALUES (?, ?, ?, ?)", payments)
        db.executescript(
            "CREATE INDEX signups_day ON signups (created_at); CREATE INDEX payments_day ON payments (paid_at);"
        )
    return path
