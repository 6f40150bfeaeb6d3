"""Randomized fault injection, measured: what the sequences met and what Slack held after.

    .venv/bin/python bench/faults.py [--sequences 200]

Runs the sequences of ``tests/faults.py`` (the same generator and checks as
``tests/integration/test_alert_faults.py``): a month of evaluations of three goals in two channels,
each planned through the alert ledger and sent as the notify task sends it, through the real
slack_sdk client against the fake Slack Web API playing Slack's documented failures (429, 500 and
503 with the call done or not, a dropped answer, a late write after the client's 1 s timeout, a busy
channel read back in pages of 15, the bot removed from a channel, content refused, a message
deleted by someone). Prints the faults injected per mode, the duplicates Slack held before and
after the healing run, what goalwatch deleted, the alerts refused for good and the failure notices
said, and the time; the figures go to stderr as JSON too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="goalwatch-bench-faults-"))
    for key in [k for k in os.environ if k.startswith(("AIRFLOW", "GOALWATCH_"))]:
        del os.environ[key]
    os.environ.update(
        AIRFLOW_HOME=str(work / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        GOALWATCH_HOME=str(work / "goalwatch"),
        GOALWATCH_SLACK_BACKOFF="0.01",
        GOALWATCH_SLACK_TIMEOUT="1",
    )
    try:
        import airflow.sdk  # noqa: F401 - Airflow configures logging on import; quiet it after

        logging.disable(logging.CRITICAL)
        from tests.faults import Figures, run_sequence

        figures = Figures()
        started = time.perf_counter()
        for seed in range(args.sequences):
            figures.add(run_sequence(seed, work / str(seed)))
        elapsed = time.perf_counter() - started
        result = {**figures.as_dict(), "seconds": round(elapsed, 1)}
        print("| figure | value |\n|---|---|")
        print(f"| sequences (all passed their checks) | {figures.sequences} |")
        for mode, n in sorted(figures.injected.items()):
            print(f"| faults injected: {mode} | {n} |")
        print(f"| goalwatch messages in Slack twice, before the healing run | {figures.duplicates_before_healing} |")
        print(f"| ... after it | {figures.duplicates_after_healing} |")
        print(f"| second copies goalwatch deleted (and recorded) | {figures.healed} |")
        print(f"| Slack calls refused for good (intents failed with the reason) | {figures.refused_intents} |")
        print(f"| failure notices said in the default channel | {figures.notices} |")
        print(f"| time | {elapsed:.0f} s ({elapsed / max(figures.sequences, 1):.2f} s a sequence) |")
        print(json.dumps(result), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
