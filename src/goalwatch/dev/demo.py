"""The demo warehouse: a deterministic SQLite database of daily sign-ups and payments.

Called by ``goalwatch demo seed`` (and so by ``make demo`` and the tests). The history runs from
1 July 2024 to 15 November 2026 with a weekday pattern, a yearly season and steady growth until
mid-2026, when growth stalls: Q3 2026 ends just short of its new-user target and Q4 2026 falls
well behind the quarter's targets for new users and for revenue. The same seed always writes
the same rows.

Other profiles (:class:`Profile`) write histories of other shapes for the benchmarks:
``CONSUMER`` (busy weekends, a summer peak) for forecast accuracy, and for the alert-quality
backtest ``B2B`` (no rows at all on Saturdays and Sundays), ``GROWTH`` (users and revenue triple
every year) and ``NOISY`` (flat, with day-to-day swings far wider than counting noise).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

__all__ = ["B2B", "CONSUMER", "DEMO", "DEMO_AS_OF", "DEMO_FIRST_DAY", "GROWTH", "NOISY", "PROFILES", "Profile", "seed"]

DEMO_FIRST_DAY = date(2024, 7, 1)
DEMO_AS_OF = date(2026, 11, 15)
REGIONS = {"NA": 0.45, "EU": 0.35, "APAC": 0.20}
PLANS = {"starter": (0.70, 19.0), "pro": (0.25, 49.0), "enterprise": (0.05, 399.0)}
STALL = date(2026, 6, 1)


@dataclass(frozen=True)
class Profile:
    """The shape of a generated history: weekday factors (Monday first; 0 writes no rows that
    day), a yearly season, the level (DEMO's growth and stall unless ``growth_per_year`` is given:
    then steady growth by that factor a year), ``scale`` times the demo's daily rates, and a
    random factor per day with mean 1 and coefficient of variation ``day_noise_cv`` (0: none,
    only the counting noise of the rows themselves)."""

    name: str
    seed: int
    signup_weekday: tuple[float, ...]
    payment_weekday: tuple[float, ...]
    season_peak_day: int  # day of the year the season peaks
    season_amplitude: float
    twice_a_year: bool  # two peaks a year (late winter and late summer) or one
    growth_per_year: float | None = None
    scale: float = 1.0
    day_noise_cv: float = 0.0

    def level(self, day: date) -> float:
        if self.growth_per_year is None:
            return _level(day)
        return self.growth_per_year ** ((day - DEMO_FIRST_DAY).days / 365.25)

    def season(self, day: date) -> float:
        doy = day.timetuple().tm_yday
        phase = 2 * math.pi * (doy - self.season_peak_day) / 365.25
        wave = math.cos(phase) ** 2 * 2 - 1 if self.twice_a_year else math.cos(phase)
        holiday = 0.75 if (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 2) else 1.0
        return (1 + self.season_amplitude * wave) * holiday


# B2B software: sign-ups early in the week, quiet weekends; busy in late winter and late summer.
DEMO = Profile(
    "demo",
    20261115,
    signup_weekday=(1.16, 1.12, 1.08, 1.03, 0.95, 0.78, 0.88),
    payment_weekday=(1.10, 1.06, 1.04, 1.02, 1.00, 0.86, 0.92),
    season_peak_day=45,
    season_amplitude=0.06,
    twice_a_year=True,
)
# A consumer app: busy weekends, one summer peak.
CONSUMER = Profile(
    "consumer",
    7031,
    signup_weekday=(0.85, 0.80, 0.82, 0.90, 1.05, 1.35, 1.23),
    payment_weekday=(0.90, 0.88, 0.90, 0.95, 1.05, 1.20, 1.12),
    season_peak_day=200,
    season_amplitude=0.15,
    twice_a_year=False,
)
# A B2B source that writes nothing at weekends; steady growth, a mild autumn peak.
B2B = Profile(
    "b2b",
    4242,
    signup_weekday=(1.50, 1.45, 1.40, 1.35, 1.30, 0.0, 0.0),
    payment_weekday=(1.45, 1.42, 1.40, 1.38, 1.35, 0.0, 0.0),
    season_peak_day=290,
    season_amplitude=0.04,
    twice_a_year=False,
    growth_per_year=1.25,
)
# A business that triples every year without a stall: 0.3 times the demo's rates at the start,
# so the last months (some 13 times the first) keep the warehouse about the demo's size.
GROWTH = Profile(
    "growth",
    3003,
    signup_weekday=(1.10, 1.08, 1.05, 1.02, 0.98, 0.86, 0.91),
    payment_weekday=(1.06, 1.04, 1.03, 1.01, 1.00, 0.92, 0.94),
    season_peak_day=45,
    season_amplitude=0.03,
    twice_a_year=True,
    growth_per_year=3.0,
    scale=0.3,
)
# A flat business whose days swing by some 30% (a campaign, an outage, a large customer), far
# more than the counting noise of ~240 rows a day (about 6.5%).
NOISY = Profile(
    "noisy",
    3535,
    signup_weekday=(1.04, 1.04, 1.02, 1.00, 0.98, 0.94, 0.98),
    payment_weekday=(1.03, 1.02, 1.01, 1.00, 0.99, 0.96, 0.99),
    season_peak_day=45,
    season_amplitude=0.0,
    twice_a_year=False,
    growth_per_year=1.0,
    day_noise_cv=0.30,
)
PROFILES = {p.name: p for p in (DEMO, CONSUMER, B2B, GROWTH, NOISY)}


def _level(day: date) -> float:
    """Growth of 3% a month until the stall, then a slow decline of 1% a month."""
    months = (min(day, STALL) - DEMO_FIRST_DAY).days / 30.44
    after = max((day - STALL).days, 0) / 30.44
    return 1.03**months * 0.99**after


def seed(path: Path, *, first: date = DEMO_FIRST_DAY, last: date = DEMO_AS_OF, profile: Profile = DEMO) -> Path:
    """Write the warehouse to ``path`` (replacing it) and return the path."""
    import numpy as np

    rng = np.random.default_rng(profile.seed)
    # The day factors draw from a stream of their own: profiles without them draw what they always did.
    noise = np.random.default_rng([profile.seed, 1])
    shape = 1 / profile.day_noise_cv**2 if profile.day_noise_cv else 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    signups: list[tuple[str, str, str]] = []
    payments: list[tuple[str, str, str, float]] = []
    day = first
    while day <= last:
        base = profile.level(day) * profile.season(day) * profile.scale
        signup_shape = base * profile.signup_weekday[day.weekday()]
        payment_shape = base * profile.payment_weekday[day.weekday()]
        if shape:
            # Gamma factors with mean 1 and the profile's CV, one per day for each table.
            signup_shape *= noise.gamma(shape, 1 / shape)
            payment_shape *= noise.gamma(shape, 1 / shape)
        for region, region_share in REGIONS.items():
            for plan, (plan_share, price) in PLANS.items():
                new = int(rng.poisson(240 * signup_shape * region_share * plan_share))
                paid = int(rng.poisson(300 * payment_shape * region_share * plan_share))
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
                plan TEXT NOT NULL, amount REAL NOT NULL, currency TEXT NOT NULL DEFAULT 'USD');
            """
        )
        db.executemany("INSERT INTO signups (created_at, region, plan) VALUES (?, ?, ?)", signups)
        db.executemany("INSERT INTO payments (paid_at, region, plan, amount) VALUES (?, ?, ?, ?)", payments)
        db.executescript(
            "CREATE INDEX signups_day ON signups (created_at); CREATE INDEX payments_day ON payments (paid_at);"
        )
    return path
