"""Forecast accuracy of every pacing curve on the five generated histories.

    .venv/bin/python bench/accuracy.py [--history demo,consumer]

For each generated history (``goalwatch.dev.demo.PROFILES``: demo; consumer, with busy weekends and
one summer peak; b2b, without weekend rows; growth, tripling every year; noisy, with 30% day-to-day
swings), daily new users and revenue are read from the generated warehouse.
For every week, month and quarter that has closed and has at least three months of history before it,
the end-of-period forecast goalwatch would have made at 25%, 50% and 75% of the period (with each
pacing curve, learned only from the days before the period) is compared with the period's actual
total. Reported: MAPE (mean absolute percentage error) of the pacing projection itself
(actual-to-date over the curve's share) and of the forecast goalwatch reports (that projection
corrected by the bias measured on past periods, ``Projection.forecast``), and the coverage of the
80% prediction interval (the share of actual totals that fell inside it).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

from goalwatch.core.forecast import Panel, project
from goalwatch.core.periods import Calendar
from goalwatch.dev.demo import DEMO_AS_OF, DEMO_FIRST_DAY, PROFILES, seed

PACINGS = ("linear", "weekday", "seasonal", "trend", "auto")
POINTS = (0.25, 0.50, 0.75)
INTERVAL = 0.8
WARMUP = date(2024, 10, 1)  # periods start once three months of history exist


def daily_totals(db: Path) -> dict[str, np.ndarray]:
    days = (DEMO_AS_OF - DEMO_FIRST_DAY).days + 1
    out = {}
    queries = {
        "new_users": "SELECT date(created_at), COUNT(*) FROM signups GROUP BY 1",
        "revenue": "SELECT date(paid_at), SUM(amount) FROM payments GROUP BY 1",
    }
    with sqlite3.connect(db) as conn:
        for metric, sql in queries.items():
            series = np.zeros(days)
            for day, value in conn.execute(sql):
                series[(date.fromisoformat(day) - DEMO_FIRST_DAY).days] = value
            out[metric] = series
    return out


def measure(values: np.ndarray, period: str) -> dict[str, dict[str, float]]:
    calendar = Calendar()
    panel = Panel(values.reshape(1, -1), DEMO_FIRST_DAY, "sum")
    rows: dict[str, dict[str, float]] = {}
    for pacing in PACINGS:
        errors = {p: [] for p in POINTS}
        raw = {p: [] for p in POINTS}
        inside = {p: [] for p in POINTS}
        for start, end in calendar.within(period, WARMUP, DEMO_AS_OF):
            proj = project(panel, start, end, pacing, calendar, period=period)
            n = proj.length
            actual = proj.cum[0, -1]
            low, high = proj.bounds(INTERVAL)
            forecast = proj.forecast()
            for p in POINTS:
                j = int(round(p * n)) - 1
                errors[p].append(abs(forecast[0, j] - actual) / actual)
                raw[p].append(abs(proj.projected[0, j] - actual) / actual)
                inside[p].append(low[0, j] <= actual <= high[0, j])
        rows[pacing] = {f"mape_{int(p * 100)}": 100 * float(np.mean(errors[p])) for p in POINTS}
        rows[pacing].update({f"raw_{int(p * 100)}": 100 * float(np.mean(raw[p])) for p in POINTS})
        rows[pacing].update({f"coverage_{int(p * 100)}": 100 * float(np.mean(inside[p])) for p in POINTS})
        rows[pacing]["periods"] = len(errors[POINTS[0]])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", default=",".join(PROFILES), help="comma-separated, of " + ", ".join(PROFILES))
    args = parser.parse_args()
    unknown = set(args.history.split(",")) - set(PROFILES)
    if unknown:
        parser.error(f"unknown history {', '.join(sorted(unknown))}")
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for profile in (PROFILES[h] for h in args.history.split(",")):
            totals = daily_totals(seed(Path(work) / f"{profile.name}.db", profile=profile))
            for metric, values in totals.items():
                for period in ("week", "month", "quarter"):
                    results[(profile.name, metric, period)] = measure(values, period)
    print_summary(results)
    print(
        "\n| history | metric | period | pacing | periods | pacing projection MAPE at 25% / 50% / 75% "
        "| calibrated forecast MAPE at 25% / 50% / 75% | 80% interval coverage at 25% / 50% / 75% |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (history, metric, period), rows in results.items():
        for pacing, r in rows.items():
            print(
                f"| {history} | {metric} | {period} | {pacing} | {r['periods']} "
                f"| {r['raw_25']:.2f}% / {r['raw_50']:.2f}% / {r['raw_75']:.2f}% "
                f"| {r['mape_25']:.2f}% / {r['mape_50']:.2f}% / {r['mape_75']:.2f}% "
                f"| {r['coverage_25']:.0f}% / {r['coverage_50']:.0f}% / {r['coverage_75']:.0f}% |"
            )
    print(json.dumps({"/".join(k): v for k, v in results.items()}), file=sys.stderr)


def print_summary(results: dict[tuple[str, str, str], dict[str, dict[str, float]]]) -> None:
    """Per history and period kind, each curve's calibrated forecast MAPE at 25% / 50% / 75% of
    the period, the mean over the two metrics; the best at 50% in bold."""
    histories = list(dict.fromkeys(h for h, _, _ in results))
    print("| history | period | " + " | ".join(PACINGS) + " |")
    print("|---|---|" + "---|" * len(PACINGS))
    for history in histories:
        for period in ("week", "month", "quarter"):
            both = [results[(history, m, period)] for m in ("new_users", "revenue")]
            mape = {c: [float(np.mean([r[c][f"mape_{int(p * 100)}"] for r in both])) for p in POINTS] for c in PACINGS}
            best = min(PACINGS, key=lambda c: mape[c][1])
            cells = [("**{}**" if c == best else "{}").format(" / ".join(f"{x:.1f}" for x in mape[c])) for c in PACINGS]
            print(f"| {history} | {period} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
