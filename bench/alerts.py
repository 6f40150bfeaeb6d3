"""Slack calls and delivery time when 100 goals change state at once.

    .venv/bin/python bench/alerts.py [--no-charts]

Runs the notify path as the evaluate DAG's ``notify`` task does: ``alerting.plan.plan`` on synthetic
total verdicts of 100 monthly goals (with a chart per new message, as ``alerting.notify.chart_maker``
gives, unless ``--no-charts``), then ``alerting.send.deliver`` through ``runtime.slack.SlackDelivery`` -- the Slack
provider's ``SlackHook`` and the real slack_sdk client -- against the fake Slack Web API on
127.0.0.1, which enforces Slack's own limit of one chat.postMessage a second per channel
(``FakeSlack(rate_limit_per_channel=1.0)``). goalwatch's settings are left at their defaults
(GOALWATCH_SLACK_RATE 1 message/s/channel, GOALWATCH_SLACK_BACKOFF 0.5): this is the real behaviour.
Each day gets a fresh ledger-backed ``SlackDelivery``, as each DAG run does.

- Scenario A: 100 goals over 4 channels (25 each). Day 1: all go from nothing to off track
  (critical or warning) or at risk, and one chat.postMessage is refused with a 429 (Retry-After 1).
  Day 2: a third change status (critical -> on track, warning -> critical, at risk -> off track),
  a third only change their numbers, a third keep every number. Day 3: no number changes.
- Scenario B: the same 100 goals in one channel, day 1 only, no injected fault.
- The naive approach, computed, not sent: one chat.postMessage per goal whose status or numbers
  changed, with the least time it takes at 1 message/s/channel.

Per day it counts the API calls the fake handled, by method (refused 429s are counted apart), the
messages, thread replies and file shares it stored, and the wall time of ``plan`` and of
``deliver``. Prints a Markdown table per scenario and a summary; the raw figures go to stderr as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Slack and the verdicts live in tests/

DAYS = (date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12))
TARGET = 3000.0
GOALS = 100
MENTION = "<!subteam^S0GOALOWNR>"
# Day 1 statuses, by goal number mod 3; on day 2 a goal of the "status" third moves to the next.
DAY1 = [("off_track", "critical"), ("off_track", "warning"), ("at_risk", "warning")]
NEXT = {
    ("off_track", "critical"): ("on_track", None),
    ("off_track", "warning"): ("off_track", "critical"),
    ("at_risk", "warning"): ("off_track", "warning"),
}
PACE = {
    ("on_track", None): 1.02,
    ("at_risk", "warning"): 0.98,
    ("off_track", "warning"): 0.93,
    ("off_track", "critical"): 0.85,
}


def write_config(folder: Path, channels: list[str]) -> Path:
    lines = ["metrics:", "  users: {source: {path: users.csv}}", "goals:"]
    for i in range(GOALS):
        notify = f'{{channel: "{channels[i % len(channels)]}", mention: ["{MENTION}"]}}'
        lines.append(
            f'  - {{name: goal_{i:03d}, title: "Goal {i:03d}", metric: users, period: month, '
            f"target: {TARGET:.0f}, notify: {notify}}}"
        )
    path = folder / "config" / "goals.yml"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def verdict(config: Any, i: int, day: date, level: tuple[str, str | None], nudge: float = 0.0) -> Any:
    from tests.factories import users_verdict

    goal = config.goals[i]
    return users_verdict(
        goal.name,
        day,
        *level,
        channel=config.channel_for(goal),
        pace=PACE[level] + nudge,
        label=f"Goal {i:03d}",
        target=TARGET,
        miss_probability=0.1 if level[0] == "on_track" else 0.85,
    )


def days_of_verdicts(config: Any, *, days: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """Each day's verdicts and, per day, the verdicts whose status or numbers changed (the naive posts)."""
    day1 = [verdict(config, i, DAYS[0], DAY1[i % 3]) for i in range(GOALS)]
    out, changed = [day1], [day1]
    if days > 1:
        day2 = []
        for i, v in enumerate(day1):
            role = (i // 3) % 3  # independent of the status, so each third holds every status
            level = (v.status, v.severity)
            if role == 0:
                day2.append(verdict(config, i, DAYS[1], NEXT[level]))
            elif role == 1:
                day2.append(verdict(config, i, DAYS[1], level, nudge=0.004))
            else:
                day2.append(dataclasses.replace(v, as_of=DAYS[1]))  # every number as it was
        out.append(day2)
        changed.append([v for i, v in enumerate(day2) if (i // 3) % 3 != 2])
    if days > 2:
        out.append([dataclasses.replace(v, as_of=DAYS[2]) for v in out[1]])
        changed.append([])
    return out, changed


def chart_maker() -> Any:
    """PNG bytes of the goal's real chart (the same renderer as the notify task; linear pace)."""
    from goalwatch.alerting.render.charts import ChartData, render_chart

    def chart(v: Any) -> bytes:
        span = (v.period_end - v.period_start).days + 1
        k = (v.as_of - v.period_start).days + 1
        days = tuple(v.period_start + timedelta(days=d) for d in range(span))
        actual = tuple(v.actual_to_date * (d + 1) / k if d < k else None for d in range(span))
        return render_chart(
            ChartData(
                title=f"{v.label} — {v.period_label}",
                unit=v.unit,
                kind=v.kind,
                period_start=v.period_start,
                period_end=v.period_end,
                as_of=v.as_of,
                days=days,
                actual=actual,
                expected=tuple(v.target * (d + 1) / span for d in range(span)),
                target=v.target,
                forecast=v.forecast,
                forecast_low=v.forecast_low,
                forecast_high=v.forecast_high,
            )
        )

    return chart


def block_chars(value: Any) -> int:
    """The characters of every ``text`` in a message's blocks, counted here from the payload as
    sent (not by goalwatch's limits module): what Slack's total-size limit adds up."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else block_chars(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(block_chars(v) for v in value)
    return 0


def largest(bodies: list[dict[str, Any]]) -> dict[str, int]:
    """The largest chat.postMessage / chat.update payload: its block text and its JSON, in characters."""
    return {
        "block_chars": max((block_chars(b.get("blocks", [])) for b in bodies), default=0),
        "json_chars": max((len(json.dumps(b, ensure_ascii=False)) for b in bodies), default=0),
    }


def run_scenario(
    name: str, channels: list[str], days: int, *, inject_429: bool, charts: bool, work: Path
) -> list[dict[str, Any]]:
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.plan import plan
    from goalwatch.alerting.send import deliver
    from goalwatch.config import load_config
    from goalwatch.data.store import Store
    from goalwatch.runtime.slack import SlackDelivery
    from tests.fakes.slack import FakeSlack

    folder = work / name
    config = load_config(write_config(folder, channels))
    ledger = Ledger(Store(url=f"sqlite:///{folder / 'store.db'}"))
    per_day, naive = days_of_verdicts(config, days=days)
    chart = chart_maker() if charts else None
    rows = []
    with FakeSlack(token="xoxb-bench-alerts", rate_limit_per_channel=1.0) as slack:
        os.environ["AIRFLOW_CONN_SLACK_API_DEFAULT"] = slack.connection_json()
        for n, verdicts in enumerate(per_day):
            if n:
                # Runs are a day apart: wait out Slack's per-channel second (untimed), which a fresh
                # SlackDelivery, like each DAG run's, cannot know the previous run spent.
                time.sleep(1.1)
            calls, messages, files, faults = len(slack.calls), len(slack.messages), len(slack.files), len(slack.faulted)
            if inject_429 and n == 0:
                slack.fail_next("chat.postMessage", status=429, retry_after=1)
            started = time.perf_counter()
            summary = plan(verdicts, [], config=config, ledger=ledger, run_id=f"bench-{name}-{n + 1}", chart=chart)
            planned = time.perf_counter() - started
            delivery = SlackDelivery(conn_id="slack_api_default")  # a new DAG run, a new delivery
            started, passes, outcome = time.perf_counter(), 0, None
            while (outcome is None or outcome.failed or outcome.waiting) and passes < 3:  # as the task's retries would
                outcome = deliver(ledger, delivery)
                passes += 1
            delivered = time.perf_counter() - started
            new = slack.messages[messages:]
            by_channel = Counter(v.channel for v in naive[n])
            naive_posts = len(naive[n])
            rows.append(
                {
                    "scenario": name,
                    "day": n + 1,
                    "as_of": verdicts[0].as_of.isoformat(),
                    "calls": dict(sorted(Counter(c.method for c in slack.calls[calls:]).items())),
                    "largest": largest(
                        [c.body for c in slack.calls[calls:] if c.method in ("chat.postMessage", "chat.update")]
                    ),
                    "raw_uploads": len(slack.files) - files,
                    "refused": dict(Counter(kind for _, kind in slack.faulted[faults:])),
                    "messages": sum(1 for m in new if m["thread_ts"] is None and not m.get("files")),
                    "replies": sum(1 for m in new if m["thread_ts"] is not None and not m.get("files")),
                    "file_shares": sum(1 for m in new if m.get("files")),
                    "plan_s": planned,
                    "deliver_s": delivered,
                    "deliver_passes": passes,
                    "pending_after": len(outcome.failed) + len(outcome.waiting),
                    "planned": {k: len(v) for k, v in summary.items()},
                    "naive_posts": naive_posts,
                    # At 1 message/s/channel, channels in parallel: the busiest channel's posts less one.
                    "naive_min_s": max(by_channel.values(), default=1) - 1,
                }
            )
        rows[-1]["slack_rate_limited_total"] = slack.rate_limited
    return rows


def table(title: str, rows: list[dict[str, Any]]) -> str:
    head = (
        "| day | chat.postMessage | chat.update | files.* (+raw uploads) | other calls | 429s refused "
        "(injected / Slack's limit) | messages | thread replies | file shares | plan s | deliver s "
        "| largest payload (block text / JSON chars) | naive posts | naive ≥ s |"
    )
    out = [f"### {title}", "", head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        calls = r["calls"]
        files = sum(v for k, v in calls.items() if k.startswith("files."))
        other = sum(
            v for k, v in calls.items() if k not in ("chat.postMessage", "chat.update") and not k.startswith("files.")
        )
        refused = f"{r['refused'].get('429', 0)} / {r['refused'].get('rate_limited', 0)}"
        out.append(
            f"| {r['day']} ({r['as_of']}) | {calls.get('chat.postMessage', 0)} | {calls.get('chat.update', 0)} "
            f"| {files} (+{r['raw_uploads']}) | {other} | {refused} | {r['messages']} | {r['replies']} "
            f"| {r['file_shares']} | {r['plan_s']:.2f} | {r['deliver_s']:.2f} "
            f"| {r['largest']['block_chars']:,} / {r['largest']['json_chars']:,} | {r['naive_posts']} "
            f"| {r['naive_min_s']} |"
        )
    return "\n".join(out)


def summary(a: list[dict[str, Any]], b: list[dict[str, Any]], charts: bool) -> str:
    def posts(r: dict[str, Any]) -> int:
        return r["calls"].get("chat.postMessage", 0)

    def total(r: dict[str, Any]) -> int:
        return sum(r["calls"].values())

    a1, b1 = a[0], b[0]
    chart_note = (
        f" Each new message gets one chart in its thread ({a1['file_shares']} file shares on day 1 in A, "
        f"{b1['file_shares']} in B; each is files.getUploadURLExternal + a raw upload + "
        f"files.completeUploadExternal, paced with the posts at 1/s/channel)."
        if charts
        else ""
    )
    days23 = "; ".join(
        f"day {r['day']}: {posts(r)} posts ({r['replies']} replies), "
        f"{r['calls'].get('chat.update', 0)} updates in {r['deliver_s']:.2f} s"
        for r in a[1:]
    )
    return (
        f"With 100 goals changing at once, goalwatch made {posts(a1)} chat.postMessage calls on day 1 over 4 "
        f"channels ({a1['messages']} messages, {a1['replies']} replies; {total(a1)} API calls in all) where the "
        f"naive approach makes {a1['naive_posts']}, and {posts(b1)} in one channel ({b1['messages']} message, "
        f"{b1['replies']} continuation replies) against {b1['naive_posts']}. The injected 429 was retried by "
        f"slack_sdk's RateLimitErrorRetryHandler after its Retry-After (day 1 of A took {a1['deliver_s']:.1f} s). "
        f"Slack's own 1/s/channel limit refused {a[-1]['slack_rate_limited_total']} post(s) in A and "
        f"{b[-1]['slack_rate_limited_total']} in B (0 if goalwatch's limiter spaced every post; each refusal "
        f"cost a retry after Retry-After). "
        f"Later days: {days23}; naive: {', '.join(str(r['naive_posts']) for r in a[1:])} posts.{chart_note} "
        f"Nothing was left pending (A: {[r['pending_after'] for r in a]}, B: {[r['pending_after'] for r in b]})."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--no-charts",
        dest="charts",
        action="store_false",
        help="plan without charts (the notify task makes one per new message)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="goalwatch-bench-alerts-"))
    # goalwatch's defaults and a private Airflow home: nothing from the caller's environment.
    for key in [k for k in os.environ if k.startswith(("AIRFLOW", "GOALWATCH_"))]:
        del os.environ[key]
    os.environ.update(
        AIRFLOW_HOME=str(work / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False", GOALWATCH_HOME=str(work / "goalwatch")
    )
    try:
        import airflow.sdk  # noqa: F401 - Airflow configures logging on import; quiet it after

        logging.getLogger("goalwatch").setLevel(logging.WARNING)  # stderr is for the JSON and warnings
        started = time.perf_counter()
        a = run_scenario(
            "A", ["#sales-a", "#sales-b", "#sales-c", "#sales-d"], 3, inject_429=True, charts=args.charts, work=work
        )
        b = run_scenario("B", ["#all-goals"], 1, inject_429=False, charts=args.charts, work=work)
        elapsed = time.perf_counter() - started
        print(table("Scenario A: 100 goals over 4 channels (25 each); one injected 429 on day 1", a))
        print()
        print(table("Scenario B: the same 100 goals in one channel, day 1", b))
        print()
        print(summary(a, b, args.charts))
        print(json.dumps({"charts": args.charts, "total_s": elapsed, "A": a, "B": b}), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
