"""Throughput: 10,000 goal-segment series over 400 days, in one process.

    .venv/bin/python bench/throughput.py [--metrics 100 --segments 100 --days 400]

Builds (untimed) 100 metrics of 100 segments each over 400 days (4 million daily rows, with a
weekday pattern and noise) and a config of 100 goals, one per metric, each with a target per
segment: a fifth each with linear, weekday, seasonal, trend and auto pacing (auto projects on all
four and keeps the best), half monthly and half quarterly.
Then it times goalwatch's evaluate path after the data checks, as the evaluate DAG runs it:
``pace_goals`` (matrices, pacing curves, forecasts, calibrated intervals, the numbers of every day
of the period so far) and ``statuses`` (the GX goal-checks suite on every one of those days' rows
in one run, some 300,000, then hysteresis over them). It reports wall
time, the peak resident memory of the process (ru_maxrss), where the time goes (cProfile, by
step), and a plain pandas baseline of the same arithmetic (groupby/cumsum/transform: weekday
shares, pacing, projections at the same point of eight past periods, calibration, statuses)
timed in the same process.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = date(2026, 11, 15)
PACINGS = ("linear", "weekday", "seasonal", "trend", "auto")


def build(metrics: int, segments: int, days: int) -> tuple[object, dict[str, pd.DataFrame]]:
    from goalwatch.config import load_config

    rng = np.random.default_rng(1)
    first = AS_OF - timedelta(days=days - 1)
    day_index = pd.date_range(first, AS_OF, freq="D")
    weekday = np.array([1.15, 1.1, 1.05, 1.0, 0.95, 0.8, 0.85])[day_index.day_of_week]
    frames, goals = {}, []
    for m in range(metrics):
        base = rng.uniform(20, 200, size=(segments, 1))
        values = rng.poisson(base * weekday[None, :]).astype(float)
        frames[f"m{m}"] = pd.DataFrame(
            {
                "day": np.tile(day_index.date, segments),
                "team": np.repeat([f"t{s}" for s in range(segments)], days),
                "value": values.ravel(),
            }
        )
        period = "month" if m % 2 else "quarter"
        length = 30 if period == "month" else 91
        targets = {f"t{s}": float(round(base[s, 0] * length * rng.uniform(0.9, 1.1))) for s in range(segments)}
        goals.append(
            {
                "name": f"g{m}",
                "metric": f"m{m}",
                "period": period,
                "pacing": PACINGS[m % len(PACINGS)],
                "target": sum(targets.values()),
                "segments": {"by": ["team"], "targets": targets},
            }
        )
    config = {
        "metrics": {f"m{m}": {"source": {"path": "unused.csv"}, "dimensions": ["team"]} for m in range(metrics)},
        "goals": goals,
    }
    folder = Path(tempfile.mkdtemp(prefix="goalwatch-throughput-"))
    (folder / "config").mkdir()
    (folder / "config" / "goals.yml").write_text(json.dumps(config))
    return load_config(folder / "config" / "goals.yml"), frames


def goalwatch_path(config: object, frames: dict[str, pd.DataFrame]) -> list:
    from goalwatch.core.findings import QualityReport
    from goalwatch.pipeline import pace_goals, statuses

    reports = {m: QualityReport(metric=m, rows=len(f)) for m, f in frames.items()}
    return statuses(pace_goals(config, frames, AS_OF, reports), config)


def pandas_baseline(config: object, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The same arithmetic in plain pandas, weekday pacing for every series (the common case)."""
    from goalwatch.core.periods import Calendar

    calendar = Calendar()
    long = pd.concat([f.assign(metric=m) for m, f in frames.items()], ignore_index=True)
    long["day"] = pd.to_datetime(long["day"])
    long["series"] = long["metric"] + "/" + long["team"]
    targets = pd.Series({f"{g.metric}/{t}": v for g in config.goals for t, v in g.segments.targets.items()})
    periods = {g.metric: g.period for g in config.goals}
    long["period"] = long["metric"].map(periods)
    out = []
    for period, rows in long.groupby("period"):
        start, end = calendar.bounds(period, AS_OF)
        windows = [(start, end)]
        for _ in range(8):
            windows.append(calendar.previous(period, windows[-1][0]))
        results = []
        for w, (ws, we) in enumerate(windows):
            history = rows[(rows["day"] < pd.Timestamp(ws)) & (rows["day"] >= pd.Timestamp(ws) - pd.Timedelta(days=84))]
            shares = history.groupby(["series", history["day"].dt.weekday])["value"].mean()
            shares = shares / shares.groupby(level=0).transform("mean")
            part = rows[(rows["day"] >= pd.Timestamp(ws)) & (rows["day"] <= pd.Timestamp(we))].copy()
            part["weight"] = shares.reindex(
                pd.MultiIndex.from_arrays([part["series"], part["day"].dt.weekday])
            ).to_numpy()
            part = part.sort_values(["series", "day"])
            part["cum"] = part.groupby("series")["value"].cumsum()
            part["share"] = part.groupby("series")["weight"].cumsum() / part.groupby("series")["weight"].transform(
                "sum"
            )
            part["projected"] = part["cum"] / part["share"]
            part["j"] = (part["day"] - pd.Timestamp(ws)).dt.days
            part["fraction"] = (part["j"] + 1) / ((we - ws).days + 1)
            part["window"] = w
            results.append(part)
        now = results[0]
        k = (AS_OF - start).days
        today = now[now["j"] == k].set_index("series")
        past = pd.concat(results[1:])
        finals = past.groupby(["window", "series"])["cum"].transform("last")
        past = past.assign(error=np.log(finals / past["projected"]))
        at = past[(past["fraction"] - today["fraction"].iloc[0]).abs() < 0.5 / 30]
        calib = at.groupby("series")["error"].agg(["mean", "std", "count"])
        today = today.join(calib)
        today["target"] = targets.reindex(today.index)
        today["expected"] = today["target"] * today["share"]
        today["pace"] = today["cum"] / today["expected"]
        today["forecast"] = today["projected"] * np.exp(today["mean"])
        z = (np.log(today["target"] / today["projected"]) - today["mean"]) / today["std"]
        from scipy.special import ndtr

        today["miss"] = ndtr(z)
        today["status"] = np.select(
            [today["pace"] < 0.9, today["pace"] < 0.97, today["miss"] >= 0.8],
            ["off_track/critical", "off_track/warning", "at_risk"],
            "on_track",
        )
        out.append(today)
    return pd.concat(out)


def steps(profile: cProfile.Profile) -> list[tuple[str, float]]:
    stats = pstats.Stats(profile)
    wanted = {
        "_pivot": "daily matrices from the long frames (_pivot)",
        "learn_curve": "pacing curves (learn_curve, incl. past periods)",
        "project": "projections + calibration over past periods (project, all)",
        "_choose": "auto's choice among the four curves (forecast._choose)",
        "pace_batch": "pacing of each group of goals, verdicts built (pace_batch)",
        "decide_statuses": "the one status rule (checks.goals.decide_statuses)",
        "_frame": "  the period's days as one frame (checks.goals._frame)",
        "_failed": "  GX goal checks on every day's row (checks.goals._failed)",
        "scan": "  hysteresis over the days (status.scan)",
    }
    found = []
    for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "goalwatch" in filename and name in wanted and wanted[name]:
            found.append((wanted[name], cumulative))
    return sorted(found, key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metrics", type=int, default=100)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--days", type=int, default=400)
    args = parser.parse_args()
    config, frames = build(args.metrics, args.segments, args.days)
    goalwatch_path(*_small(config, frames))  # warm up: GX import and its context, outside the timing
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    started = time.perf_counter()
    verdicts = goalwatch_path(config, frames)
    full = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    started = time.perf_counter()
    baseline = pandas_baseline(config, frames)
    plain = time.perf_counter() - started

    from goalwatch.core.findings import QualityReport
    from goalwatch.pipeline import pace_goals
    from goalwatch.pipeline import statuses as decide

    reports = {m: QualityReport(metric=m, rows=len(f)) for m, f in frames.items()}
    started = time.perf_counter()
    paced = pace_goals(config, frames, AS_OF, reports)
    pacing_seconds = time.perf_counter() - started
    started = time.perf_counter()
    decide(paced, config)
    checks_seconds = time.perf_counter() - started

    profile = cProfile.Profile()
    profile.enable()
    goalwatch_path(config, frames)
    profile.disable()

    series = sum(1 for v in verdicts if v.segment is not None)
    rows = sum(v.history.shape[1] if v.history is not None else 1 for v in paced if v.status == "pending")
    statuses = pd.Series([v.status for v in verdicts]).value_counts().to_dict()
    print(
        f"series: {series:,} goal-segment series ({len(config.goals)} goals) over {args.days} days; "
        f"{len(verdicts):,} verdicts {statuses}"
    )
    print(f"goalwatch path (pace_goals + statuses): {full:.2f} s")
    print(
        f"plain pandas baseline ({len(baseline):,} series, weekday pacing): {plain:.2f} s -> ratio {full / plain:.2f}x"
    )
    print(f"peak resident memory of the process: {rss_after:.0f} MB (before the timed run: {rss_before:.0f} MB)")
    print(
        f"wall time by step: pace_goals {pacing_seconds:.2f} s (matrices, curves, forecasts, intervals, history), "
        f"statuses {checks_seconds:.2f} s (GX goal checks on {rows:,} rows of days so far, then hysteresis)"
    )
    print("where the time goes inside (cProfile, cumulative, inflated by profiling; steps nest):")
    for label, seconds in steps(profile):
        print(f"  {seconds:6.2f} s  {label}")


def _small(config: object, frames: dict[str, pd.DataFrame]) -> tuple[object, dict[str, pd.DataFrame]]:
    goal = config.goals[0]  # type: ignore[attr-defined]
    return config.model_copy(update={"goals": (goal,)}), {goal.metric: frames[goal.metric]}  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
