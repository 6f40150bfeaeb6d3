"""Parse time of each DAG file, in fresh interpreters, as the dag-processor pays it.

    .venv/bin/python bench/parse_time.py [--runs 10] [--goals 1000]

For each run a new Python process imports ``airflow.sdk`` (the floor every DAG file pays) and
then executes the DAG file; both are timed with perf_counter inside that process. Prints the
median and max of each over the runs, in milliseconds, twice: cold (an empty GOALWATCH_HOME, so
goals.yml is read and validated) and warm (the validated config cached by an earlier parse, as
the dag-processor finds it every 30 s while goals.yml is unchanged).

Without ``--goals`` the DAG files read the repository's ``config/goals.yml``; ``--goals N``
writes a goals.yml of N goals over N/5 metrics (SQL sources, two dimensions, segment and period
targets) into a temporary folder and points ``GOALWATCH_CONFIG`` at it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, runpy, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
runpy.run_path(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"sdk": t1 - t0, "dag": t2 - t1}))
"""
PERIODS = ("month", "quarter", "week", "year", "month")
PACINGS = ("linear", "weekday", "seasonal", "trend", "auto")
REGIONS = ("NA", "EU", "APAC")
PLANS = ("starter", "pro", "enterprise")


def goals_yml(goals: int, folder: Path) -> Path:
    """A valid goals.yml of ``goals`` goals over ``goals // 5`` metrics, written in ``folder``."""
    metrics = {
        f"m{m:03d}": {
            "description": f"Events of kind {m} per day",
            "source": {
                "conn_id": "goalwatch_warehouse",
                "sql": f"SELECT date(at) AS day, region, plan, COUNT(*) AS value FROM events_{m} GROUP BY 1, 2, 3",
            },
            "dimensions": ["region", "plan"],
            "values": {"region": list(REGIONS), "plan": list(PLANS)},
            "late_after_hours": 6 + m % 6,
        }
        for m in range(max(goals // 5, 1))
    }
    names = list(metrics)
    out = []
    for g in range(goals):
        metric, j = names[(g // 5) % len(names)], g % 5
        goal = {"name": f"goal_{g:04d}", "metric": metric, "period": PERIODS[j], "pacing": PACINGS[j]}
        if j == 4:
            goal |= {"kind": "ratio", "denominator": names[(g // 5 + 1) % len(names)], "target": 0.25}
        else:
            target = 1000 * (g + 1)
            goal["target"] = target
            goal["segments"] = {"by": ["region"], "targets": dict(zip(REGIONS, (target / 2, target / 4, target / 4)))}
        if j == 1:
            goal["targets"] = {"2026-01-01": goal["target"] * 0.9, "2026-04-01": goal["target"] * 0.95}
        goal["notify"] = {"channel": f"#goals-{g % 7}", "mention": ["<!here>"] if j == 0 else []}
        out.append(goal)
    config = {"timezone": "America/Los_Angeles", "default_channel": "#goals", "metrics": metrics, "goals": out}
    path = folder / "goals.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def sample(dag_file: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(dag_file)], env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(dag_file: Path, env: dict[str, str], runs: int) -> dict[str, object]:
    home = Path(env["GOALWATCH_HOME"])
    cold = []
    for _ in range(runs):
        shutil.rmtree(home, ignore_errors=True)
        cold.append(sample(dag_file, env))
    sample(dag_file, env)  # leaves the cache the warm runs read
    warm = [sample(dag_file, env) for _ in range(runs)]
    sdk = [s["sdk"] * 1000 for s in cold + warm]
    row: dict[str, object] = {"file": f"dags/{dag_file.name}", "runs": runs}
    row |= {"sdk_median_ms": statistics.median(sdk), "sdk_max_ms": max(sdk)}
    for name, samples in (("cold", cold), ("warm", warm)):
        ms = [s["dag"] * 1000 for s in samples]
        row |= {f"{name}_median_ms": statistics.median(ms), f"{name}_max_ms": max(ms)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--goals", type=int, default=None, help="generate a goals.yml of this many goals")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="goalwatch-bench-"))
    config = goals_yml(args.goals, scratch) if args.goals else ROOT / "config" / "goals.yml"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(scratch / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GOALWATCH_HOME": str(scratch / "goalwatch"),
        "GOALWATCH_CONFIG": str(config),
    }
    try:
        rows = [measure(dag_file, env, args.runs) for dag_file in sorted((ROOT / "dags").glob("*.py"))]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    shown = f"{args.goals} goals over {max(args.goals // 5, 1)} metrics" if args.goals else "config/goals.yml"
    print(f"{shown}, {args.runs} cold and {args.runs} warm runs per DAG file (median / max)")
    print("| DAG file | import airflow.sdk | on top, cold | on top, warm |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| `{r['file']}` | {r['sdk_median_ms']:.0f} / {r['sdk_max_ms']:.0f} ms "
            f"| {r['cold_median_ms']:.0f} / {r['cold_max_ms']:.0f} ms "
            f"| {r['warm_median_ms']:.0f} / {r['warm_max_ms']:.0f} ms |"
        )
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
