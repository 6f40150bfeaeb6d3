"""The demo warehouse: deterministic, over two years, with growth, a season and a weekday pattern."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from goalwatch.dev.demo import CONSUMER, DEMO_AS_OF, DEMO_FIRST_DAY, seed


def daily(db: Path, table: str, column: str, value: str) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute(f"SELECT date({column}), {value} FROM {table} GROUP BY 1"))


def weekday_means(series: dict[str, float], first: str, last: str) -> list[float]:
    from datetime import date

    sums, counts = [0.0] * 7, [0] * 7
    for day, value in series.items():
        if first <= day <= last:
            wd = date.fromisoformat(day).weekday()
            sums[wd] += value
            counts[wd] += 1
    return [s / c for s, c in zip(sums, counts)]


def test_the_same_seed_writes_the_same_rows(demo_warehouse, tmp_path):
    again = seed(tmp_path / "again.db")
    digest = lambda p: hashlib.sha256(
        "".join(map(str, sqlite3.connect(p).execute("SELECT * FROM payments ORDER BY payment_id"))).encode()
    ).hexdigest()
    assert digest(again) == digest(demo_warehouse)


def test_more_than_two_years_of_every_day(demo_warehouse):
    signups = daily(demo_warehouse, "signups", "created_at", "COUNT(*)")
    assert min(signups) == DEMO_FIRST_DAY.isoformat() and max(signups) == DEMO_AS_OF.isoformat()
    assert len(signups) == (DEMO_AS_OF - DEMO_FIRST_DAY).days + 1 > 730


@pytest.mark.parametrize(
    ("table", "column", "value", "factor"),
    [
        ("signups", "created_at", "COUNT(*)", 1.15),
        ("payments", "paid_at", "SUM(amount)", 1.04),
    ],
    ids=["signups", "payments"],
)
def test_weekdays_are_busier_than_weekends(demo_warehouse, table, column, value, factor):
    means = weekday_means(daily(demo_warehouse, table, column, value), "2025-01-01", "2025-12-31")
    assert min(means[:4]) > max(means[5:]) * factor


def test_growth_then_a_stall_that_misses_q4(demo_warehouse):
    signups = daily(demo_warehouse, "signups", "created_at", "COUNT(*)")
    total = lambda a, b: sum(v for d, v in signups.items() if a <= d <= b)
    assert total("2025-07-01", "2025-09-30") > 1.3 * total("2024-07-01", "2024-09-30")  # growth
    # After the stall, Q4 2026 runs below Q3 2026's daily rate.
    assert total("2026-10-01", "2026-11-15") / 46 < total("2026-07-01", "2026-09-30") / 92


def test_the_consumer_history_has_busy_weekends(tmp_path):
    db = seed(tmp_path / "consumer.db", profile=CONSUMER)
    means = weekday_means(daily(db, "signups", "created_at", "COUNT(*)"), "2025-01-01", "2025-12-31")
    assert min(means[5:]) > max(means[:4]) * 1.1
