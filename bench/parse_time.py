"""Parse time of each DAG file, in fresh interpreters, as the dag-processor pays it.

    .venv/bin/python bench/parse_time.py [--runs 10]

For each run a new Python process imports ``airflow.sdk`` (the floor every DAG file pays) and
then executes the DAG file; both are timed with perf_counter inside that process. Prints the
median and max of each over the runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = {
        **os.environ,
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="goalwatch-bench-"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GOALWATCH_CONFIG": str(ROOT / "config" / "goals.yml"),
    }
    rows = []
    for dag_file in sorted((ROOT / "dags").glob("*.py")):
        samples = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, str(dag_file)], env=env, capture_output=True, text=True, check=True
            ).stdout
            samples.append(json.loads(out.strip().splitlines()[-1]))
        sdk = [s["sdk"] * 1000 for s in samples]
        dag = [s["dag"] * 1000 for s in samples]
        rows.append(
            {
                "file": f"dags/{dag_file.name}",
                "runs": args.runs,
                "sdk_median_ms": statistics.median(sdk),
                "sdk_max_ms": max(sdk),
                "dag_median_ms": statistics.median(dag),
                "dag_max_ms": max(dag),
            }
        )
    print("| DAG file | import airflow.sdk (median / max) | the DAG file on top (median / max) |")
    print("|---|---|---|")
    for r in rows:
        print(
            f"| `{r['file']}` | {r['sdk_median_ms']:.0f} / {r['sdk_max_ms']:.0f} ms "
            f"| {r['dag_median_ms']:.0f} / {r['dag_max_ms']:.0f} ms |"
        )
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
