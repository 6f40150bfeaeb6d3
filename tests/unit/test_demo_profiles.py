"""The generated histories of ``goalwatch.dev.demo``: the demo's and the consumer's rows never
change, and each history written for the alert-quality backtest has the shape it claims."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from goalwatch.dev.demo import B2B, CONSUMER, DEMO, DEMO_AS_OF, GROWTH, NOISY, PROFILES, Profile, seed

# sha256 of every row of both tables (in rowid order), recorded before B2B, GROWTH and NOISY
# were added: the months at the start of the history and the weeks around DEMO's stall.
UNCHANGED = [
    ("demo", date(2024, 7, 1), date(2024, 7, 21), "30e88f4f9731dad62c6c814c170f1973993d94fb793fde664199278e6afb3b5a"),
    ("demo", date(2026, 5, 25), date(2026, 6, 7), "9d58249a8afb14819f94ca73ba92fd012340daffbf2e6ec10ab9aed2789362f1"),
    (
        "consumer",
        date(2024, 7, 1),
        date(2024, 7, 21),
        "faf36b86efef3574c0a78e15c2e62f2990b521febab5f07faf9271c2e29e4f28",
    ),
    (
        "consumer",
        date(2026, 5, 25),
        date(2026, 6, 7),
        "5e1751b805abd99ffeb9bdb005c4cdedf1c2fa3c39705eedb7f5b3d1b85059e2",
    ),
]


def _digest(db: Path) -> str:
    h = hashlib.sha256()
    with sqlite3.connect(db) as conn:
        for table in ("signups", "payments"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                h.update(repr(row).encode())
    return h.hexdigest()


def _daily(db: Path, first: date, last: date) -> dict[str, np.ndarray]:
    """New users and revenue per day from ``first`` to ``last`` (0 on a day without rows)."""
    queries = {
        "new_users": "SELECT date(created_at), COUNT(*) FROM signups GROUP BY 1",
        "revenue": "SELECT date(paid_at), SUM(amount) FROM payments GROUP BY 1",
    }
    out = {}
    with sqlite3.connect(db) as conn:
        for metric, sql in queries.items():
            series = np.zeros((last - first).days + 1)
            for day, value in conn.execute(sql):
                series[(date.fromisoformat(day) - first).days] = value
            out[metric] = series
    return out


@pytest.mark.parametrize(
    ("name", "first", "last", "digest"), UNCHANGED, ids=[f"{n}-{f.isoformat()}" for n, f, _, _ in UNCHANGED]
)
def test_demo_and_consumer_write_the_rows_they_always_wrote(
    tmp_path: Path, name: str, first: date, last: date, digest: str
) -> None:
    db = seed(tmp_path / "w.db", first=first, last=last, profile=PROFILES[name])
    assert _digest(db) == digest


@pytest.mark.parametrize("profile", [B2B, GROWTH, NOISY], ids=lambda p: p.name)
def test_the_same_seed_writes_the_same_rows(tmp_path: Path, profile: Profile) -> None:
    first, last = date(2025, 3, 1), date(2025, 3, 10)
    one = seed(tmp_path / "one.db", first=first, last=last, profile=profile)
    two = seed(tmp_path / "two.db", first=first, last=last, profile=profile)
    assert _digest(one) == _digest(two)


def test_profiles_are_listed_by_name() -> None:
    assert list(PROFILES) == ["demo", "consumer", "b2b", "growth", "noisy"]
    assert all(PROFILES[p.name] is p for p in (DEMO, CONSUMER, B2B, GROWTH, NOISY))


def test_b2b_writes_no_rows_at_weekends(tmp_path: Path) -> None:
    first, last = date(2025, 9, 1), date(2025, 9, 28)  # four weeks, Monday to Sunday
    daily = _daily(seed(tmp_path / "w.db", first=first, last=last, profile=B2B), first, last)
    weekend = np.array([(first + timedelta(days=i)).weekday() >= 5 for i in range(28)])
    for values in daily.values():
        assert (values[weekend] == 0).all()
        assert (values[~weekend] > 0).all()


def test_growth_triples_in_a_year(tmp_path: Path) -> None:
    """The last 30 days against the same 30 days a year earlier.

    The level grows by 3 ** (365 / 365.25), the season is the same on the same dates, and the
    30 days have one weekday more than four weeks' worth, a different one a year later: with
    weekday factors between 0.86 and 1.10 that moves the ratio by under 1%. Counting noise: a
    year earlier some 300 sign-ups a day (9,000 in the window, 1.05%; a year later 0.6%), so
    the users' ratio is within 3 standard deviations (3.6%) plus the weekday's 1% of 3: 5%.
    Revenue sums amounts (5% of payments are enterprise plans of ~399 against a mean of ~45),
    whose relative variance per payment is ~4.5: about 2% on the earlier window's ~11,500
    payments and 1.1% on the later's, so 3 standard deviations are 7%, plus 1%: 8%.
    """
    last = DEMO_AS_OF
    first = last - timedelta(days=29)
    year_before = (first - timedelta(days=365), last - timedelta(days=365))
    now = _daily(seed(tmp_path / "now.db", first=first, last=last, profile=GROWTH), first, last)
    then = _daily(seed(tmp_path / "then.db", first=year_before[0], last=year_before[1], profile=GROWTH), *year_before)
    for metric, tolerance in (("new_users", 0.05), ("revenue", 0.08)):
        ratio = now[metric].mean() / then[metric].mean()
        assert ratio == pytest.approx(3.0, rel=tolerance), metric


def test_noisy_days_swing_far_more_than_counting_noise(tmp_path: Path) -> None:
    """Over eight weeks the daily sign-ups' CV is about sqrt(0.30² + 1/240 + 0.03²) ≈ 0.31 (the
    day factor, counting noise, the weekday), with a standard error of about 0.31 / sqrt(2 * 56)
    ≈ 0.03; Poisson noise alone would give 1 / sqrt(240) ≈ 0.065."""
    first, last = date(2025, 3, 3), date(2025, 4, 27)
    daily = _daily(seed(tmp_path / "w.db", first=first, last=last, profile=NOISY), first, last)
    for values in daily.values():
        cv = values.std(ddof=1) / values.mean()
        assert 0.21 < cv < 0.41
    users = daily["new_users"]
    assert users.std(ddof=1) / users.mean() > 3 / math.sqrt(users.mean())
