"""Data checks: what the evaluate DAG's ``check_data`` costs, in one process.

    .venv/bin/python bench/data_checks.py [--metrics 100 --segments 100 --days 400]

Two timings, each after a warm-up run (GX's import and first suite build, ~3 s, are paid once
per task process and reported apart):

- the demo: its two metrics (about 7,800 daily rows each over 2.4 years), read from a freshly
  seeded warehouse, each through its default suite (rows and days);
- throughput's data (bench/throughput.py): 100 metrics of 100 segments over 400 days, 4 million
  daily rows, each metric through its default suite.

Reports wall time per metric and in all, and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def timed(config: object, frames: dict, as_of: date) -> float:
    from goalwatch.pipeline import check_data

    start = time.perf_counter()
    for metric, frame in frames.items():
        report = check_data(config, metric, frame, as_of=as_of)
        assert report.success, report.findings
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", type=int, default=100)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--days", type=int, default=400)
    args = parser.parse_args()

    from goalwatch.config import load_config
    from goalwatch.data.sources import read_metric
    from goalwatch.dev.demo import DEMO_AS_OF, seed
    from goalwatch.runtime.connections import read_sql

    start = time.perf_counter()
    import great_expectations  # noqa: F401

    gx_import = time.perf_counter() - start

    folder = Path(tempfile.mkdtemp(prefix="goalwatch-bench-dq-"))
    warehouse = seed(folder / "warehouse.db")
    os.environ["AIRFLOW_CONN_GOALWATCH_WAREHOUSE"] = json.dumps({"conn_type": "sqlite", "host": str(warehouse)})
    demo = load_config(Path(__file__).parents[1] / "config" / "goals.yml")
    demo_frames = {m: read_metric(demo, m, query=read_sql) for m in demo.metrics}
    first = timed(demo, demo_frames, DEMO_AS_OF)  # warm-up: builds the GX suites
    demo_time = timed(demo, demo_frames, DEMO_AS_OF)

    from throughput import AS_OF, build

    config, frames = build(args.metrics, args.segments, args.days)
    timed(config, dict(list(frames.items())[:1]), AS_OF)
    big = timed(config, frames, AS_OF)
    rows = sum(len(f) for f in frames.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import great_expectations: {gx_import:.2f} s; first demo run (suites built): {first:.2f} s")
    print(
        f"demo: {len(demo_frames)} metrics, {sum(len(f) for f in demo_frames.values()):,} rows: "
        f"{demo_time:.2f} s ({demo_time / len(demo_frames):.2f} s per metric)"
    )
    print(
        f"throughput data: {len(frames)} metrics, {rows:,} rows: {big:.2f} s "
        f"({big / len(frames):.3f} s per metric); peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
