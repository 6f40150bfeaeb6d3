"""Final verdicts catch up: a goal's previous period, watched and never closed, gets its final
verdict, once, before the new period's alerts (``alerting.catch_up``). Through the evaluate DAG's
task steps as the DAG wires them (``runtime.tasks``, no Airflow), through ``goalwatch evaluate``
(printed, not sent) and through ``goalwatch replay --notify``, on a small goal delivered to the
outbox.

The goal: 3,000 new users a month, linear pace. The data: 80 users every day from 1 September,
so November closes at 80 x 30 = 2,400 of 3,000 (80.0%): missed; and every day of a month runs at
80% of a 30-day month's pace, 82.7% of a 31-day month's (80 / (3,000 / 31)), below the critical
90%: off track (critical) from its first day. One test uses the same data with 9,000 a quarter.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pytest

from goalwatch.alerting.ledger import Ledger
from goalwatch.config import load_config
from goalwatch.data.store import Store
from goalwatch.runtime import tasks

FIRST = date(2026, 9, 1)
NOV_FINAL = "monthly_users.2026-11-01.final.2026-11-30.missed"
NOV_MESSAGE = "monthly_users.2026-11-01.off_track"
DEC_MESSAGE = "monthly_users.2026-12-01.off_track"
# Judged from a period's first days on (evidence 0): these tests are about the final verdicts.
GOALS = (
    "metrics:\n"
    "  users: {source: {path: ../users.csv}}\n"
    "goals:\n"
    "  - {name: monthly_users, title: New users this month, metric: users, period: month, target: 3000, evidence: 0}\n"
)


def daily(last: date, *, skip: tuple[date, ...] = ()) -> pd.DataFrame:
    """80 new users a day from FIRST to ``last``, none on the ``skip`` days."""
    days = [FIRST + timedelta(days=i) for i in range((last - FIRST).days + 1)]
    days = [d for d in days if d not in skip]
    return pd.DataFrame({"day": days, "value": [80.0] * len(days)})


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "state"))
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "goals.yml").write_text(GOALS)
    return load_config(folder / "goals.yml")


def ingest(last: date, *, skip: tuple[date, ...] = ()) -> None:
    Store().replace_metric("users", daily(last, skip=skip), as_of=last, run_id=f"ingest:{last}")


def noon_after(day: date) -> datetime:
    """A run's instant well past ``day``'s deadline (6 hours after it ended)."""
    return datetime.combine(day + timedelta(days=1), time(12), UTC)


def evaluate(config, day: date, moment: datetime | None = None) -> dict:
    """One evaluate run as of ``day``, its steps wired as in dags/goalwatch_evaluate.py."""
    moment = moment or noon_after(day)
    as_of = {g.name: day.isoformat() for g in config.goals}
    reports = tasks.check_data(as_of, config=config, moment=moment)
    verdicts = tasks.judge(as_of, reports, config=config)
    caught_up = tasks.catch_up(verdicts, config=config, moment=moment)
    return tasks.notify(verdicts, reports, config=config, caught_up=caught_up, run_id=f"run:{day}", moment=moment)


def keys() -> list[str]:
    """Every Slack call planned, in the order it is made."""
    return [i.key for i in Ledger().intents()]


def outbox(tmp_path: Path, day: str, key: str) -> dict:
    return json.loads((tmp_path / "state" / "outbox" / day / f"{key}.json").read_text())


def test_a_month_whose_last_day_was_never_judged_gets_its_final_before_the_next_months_alert(config, tmp_path):
    for day in (date(2026, 11, 10), date(2026, 11, 29)):
        ingest(day)
        evaluate(config, day)
    # The run about 30 Nov comes at 00:15 on 1 Dec, before the 30th's data is due: it judges the 29th.
    assert evaluate(config, date(2026, 11, 30), datetime(2026, 12, 1, 0, 15, tzinfo=UTC))["planned"] == {}
    # The pipeline is down until the run about 2 Dec.
    ingest(date(2026, 12, 2))
    before = keys()

    outcome = evaluate(config, date(2026, 12, 2))

    assert outcome["caught_up"]["replied"] == ["monthly_users.final"]
    new = keys()[len(before) :]
    assert NOV_FINAL in new and DEC_MESSAGE in new
    assert new.index(NOV_FINAL) < new.index(DEC_MESSAGE)  # the old month's verdict first
    final = outbox(tmp_path, "2026-11-30", NOV_FINAL)
    assert final["thread_ts"] == f"outbox:{NOV_MESSAGE}"  # in the November message's thread
    assert "closed at 2,400 of 3,000 (80.0%)" in final["blocks"][0]["text"]["text"]
    [state] = Ledger().states([("monthly_users", date(2026, 11, 1), "")]).values()
    assert (state.status, state.as_of) == ("missed", date(2026, 11, 30))

    # A rerun of the same day, and the next day's run, say nothing more about November.
    assert evaluate(config, date(2026, 12, 2))["planned"] == {}
    ingest(date(2026, 12, 3))
    third = evaluate(config, date(2026, 12, 3))
    assert "caught_up" not in third
    assert keys().count(NOV_FINAL) == 1


def test_a_final_given_on_the_last_day_is_not_given_again(config):
    ingest(date(2026, 11, 10))
    evaluate(config, date(2026, 11, 10))
    ingest(date(2026, 11, 30))
    assert evaluate(config, date(2026, 11, 30))["planned"]["replied"] == ["monthly_users.final"]
    ingest(date(2026, 12, 2))

    outcome = evaluate(config, date(2026, 12, 2))

    assert "caught_up" not in outcome
    assert outcome["planned"]["posted"] == ["monthly_users.off_track"]
    assert keys().count(NOV_FINAL) == 1


def test_missing_last_days_are_a_data_issue_and_the_final_comes_once_they_are_backfilled(config):
    last_days = (date(2026, 11, 29), date(2026, 11, 30))
    for day in (date(2026, 11, 10), date(2026, 11, 28)):
        ingest(day)
        evaluate(config, day)
    ingest(date(2026, 12, 2), skip=last_days)  # the source never sent 29 and 30 November

    outcome = evaluate(config, date(2026, 12, 2))

    # No final verdict on missing data, and no missed goal: the data problem, said once by the run.
    assert "caught_up" not in outcome
    assert outcome["planned"] == {"data_issue": ["data.users.2026-12-02"]}
    assert not [k for k in keys() if "2026-11-30" in k]
    [state] = Ledger().states([("monthly_users", date(2026, 11, 1), "")]).values()
    assert (state.status, state.as_of) == ("off_track", date(2026, 11, 28))  # November stays open

    # The source backfills the two days: the next run gives November's final, then December's alert.
    ingest(date(2026, 12, 3))
    before = keys()
    backfilled = evaluate(config, date(2026, 12, 3))
    assert backfilled["caught_up"]["replied"] == ["monthly_users.final"]
    new = keys()[len(before) :]
    assert new.index(NOV_FINAL) < new.index(DEC_MESSAGE)
    assert keys().count(NOV_FINAL) == 1


def test_a_data_problem_only_the_catch_up_sees_is_said_once_and_the_final_waits_for_the_data(config, tmp_path):
    folder = tmp_path / "config"
    (folder / "quarter.yml").write_text(
        GOALS.replace("monthly_users", "quarterly_users").replace("month, target: 3000", "quarter, target: 9000")
    )
    quarter = load_config(folder / "quarter.yml")
    # Q4 as of 10 Nov: 41 days of 80 = 3,280 of 41/92 x 9,000 = 4,010.9 expected (81.8%): off track.
    ingest(date(2026, 11, 10))
    evaluate(quarter, date(2026, 11, 10))
    # Down until 10 February; 30 and 31 December never arrived, too far back for the run's own checks.
    ingest(date(2027, 2, 10), skip=(date(2026, 12, 30), date(2026, 12, 31)))

    outcome = evaluate(quarter, date(2027, 2, 10))

    assert outcome["caught_up"] == {"data_issue": ["data_late.users.2026-12-31"]}
    # Q1 as of 10 Feb: 41 days of 80 = 3,280 of 41/90 x 9,000 = 4,100 expected (80.0%): off track.
    assert outcome["planned"]["posted"] == ["quarterly_users.off_track"]
    assert not [k for k in keys() if ".final." in k]
    again = evaluate(quarter, date(2027, 2, 10))
    assert "caught_up" not in again and again["planned"] == {}  # the data issue said once

    # Backfilled: Q4 closes at 92 days of 80 = 7,360 of 9,000: missed.
    ingest(date(2027, 2, 11))
    assert evaluate(quarter, date(2027, 2, 11))["caught_up"]["replied"] == ["quarterly_users.final"]
    [state] = Ledger().states([("quarterly_users", date(2026, 10, 1), "")]).values()
    assert (state.status, state.as_of) == ("missed", date(2026, 12, 31))


@pytest.mark.parametrize("watched", [None, date(2026, 11, 10)], ids=["first-install", "november-two-periods-back"])
def test_no_period_but_the_previous_one_goalwatch_watched_is_judged(config, watched):
    run_day = date(2026, 12, 2)
    if watched is not None:
        ingest(watched)
        evaluate(config, watched)  # November: off track, never closed
        run_day = date(2027, 1, 20)  # the previous period is December, never watched
    ingest(run_day)

    outcome = evaluate(config, run_day)

    assert "caught_up" not in outcome
    # Dec 2: 160 of 2/31 x 3,000 = 193.5 expected; Jan 20: 1,600 of 1,935.5; both 82.7%: off track.
    assert outcome["planned"]["posted"] == ["monthly_users.off_track"]
    assert not [k for k in keys() if ".final." in k]
    if watched is not None:
        [state] = Ledger().states([("monthly_users", date(2026, 11, 1), "")]).values()
        assert (state.status, state.as_of) == ("off_track", watched)  # left as last said


def test_goalwatch_evaluate_prints_the_final_that_catches_up_first_and_records_nothing(config, tmp_path):
    from typer.testing import CliRunner

    from goalwatch.cli import app

    daily(date(2026, 12, 2)).to_csv(tmp_path / "users.csv", index=False)
    path = str(tmp_path / "config" / "goals.yml")

    def run() -> list[dict]:
        result = CliRunner().invoke(app, ["evaluate", "--config", path, "--as-of", "2026-12-02", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    # Nothing watched yet, and no store is made: December alone.
    assert [(v["period_start"], v["status"]) for v in run()] == [("2026-12-01", "off_track")]
    assert not (tmp_path / "state" / "store.db").exists()

    ingest(date(2026, 11, 29))
    evaluate(config, date(2026, 11, 29))  # November off track as of the 29th, never closed
    before = keys()

    november, december = run()

    assert (november["period_start"], november["as_of"], november["status"]) == ("2026-11-01", "2026-11-30", "missed")
    assert november["actual_to_date"] == 2400  # 30 days of 80
    assert (december["period_start"], december["as_of"], december["actual_to_date"]) == (
        "2026-12-01",
        "2026-12-02",
        160,
    )
    assert keys() == before  # it sends nothing, so November is still to catch up
    [state] = Ledger().states([("monthly_users", date(2026, 11, 1), "")]).values()
    assert (state.status, state.as_of) == ("off_track", date(2026, 11, 29))


def test_a_replay_catches_up_the_month_a_previous_replay_left_open(config, tmp_path):
    from typer.testing import CliRunner

    from goalwatch.cli import app

    daily(date(2026, 12, 31)).to_csv(tmp_path / "users.csv", index=False)
    path = str(tmp_path / "config" / "goals.yml")

    def replay(first: str, last: str) -> None:
        result = CliRunner().invoke(app, ["replay", "--config", path, "--from", first, "--to", last, "--notify"])
        assert result.exit_code == 0, result.output

    replay("2026-11-28", "2026-11-29")
    assert NOV_FINAL not in keys()
    before = keys()
    replay("2026-12-01", "2026-12-02")
    new = keys()[len(before) :]
    assert new.index(NOV_FINAL) < new.index(DEC_MESSAGE)
    replay("2026-12-01", "2026-12-02")  # a second replay of the same days sends nothing new
    assert keys().count(NOV_FINAL) == 1
    assert all(i.state == "sent" for i in Ledger().intents())
