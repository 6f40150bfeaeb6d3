"""Trust before verdicts, in-process: each bad-input fixture (tests/badinput.py) fails its
metric's data checks with its own finding, and the goals on that metric get no verdict; the
clean fixture passes everything. The same fixtures go through the evaluate DAG in
test_dag_bad_input.py."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from goalwatch.config import load_config
from goalwatch.core.periods import as_of_for
from goalwatch.data.sources import read_metric
from goalwatch.pipeline import check_data, evaluate, until
from tests import badinput
from tests.conftest import DEMO_LOGICAL_DATE


def run(fixture: badinput.Fixture, folder: Path, warehouse: Path, moment: str | None = None):
    config = load_config(badinput.write(fixture, folder, warehouse))
    frames = {m: read_metric(config, m) for m in config.metrics}
    instant = datetime.fromisoformat(moment or fixture.moment)
    as_of = as_of_for(instant, config.timezone)
    reports = {m: check_data(config, m, until(frames[m], as_of), as_of=as_of, moment=instant) for m in config.metrics}
    verdicts = [v for v in evaluate(config, frames, as_of, moment=instant) if v.segment is None]
    return config, reports, verdicts


@pytest.mark.parametrize("fixture", badinput.BAD, ids=lambda f: f.name)
def test_each_bad_input_gives_its_own_finding_and_no_goal_verdict(fixture, tmp_path, demo_warehouse):
    config, reports, verdicts = run(fixture, tmp_path, demo_warehouse)

    findings = reports[fixture.metric].findings
    assert len(findings) == 1 and findings[0].title.startswith(fixture.finding), findings
    assert findings[0].examples  # it names the rows, days or columns
    for other, report in reports.items():
        if other != fixture.metric:
            assert report.success, (other, report.findings)
    for v in verdicts:
        on_bad_data = fixture.metric in (v.metric, v.denominator)
        assert (v.status == "data_issue") == on_bad_data, (v.goal, v.status)
        if on_bad_data:
            assert v.note.startswith("data checks failed: " + fixture.finding)
            assert v.actual_to_date != v.actual_to_date  # no numbers from data that is not trusted


def test_the_clean_fixture_passes_everything(tmp_path, demo_warehouse):
    _, reports, verdicts = run(badinput.FIXTURES[0], tmp_path, demo_warehouse)

    assert {m: r.findings for m, r in reports.items() if not r.success} == {}
    assert {v.goal: v.status for v in verdicts} == {
        "quarterly_new_users": "off_track",
        "quarterly_revenue": "off_track",
        "monthly_new_users": "on_track",
        "monthly_new_users_hourly": "on_track",
    }


def test_a_day_not_due_yet_waits_quietly_and_turns_late_at_its_deadline(tmp_path, demo_warehouse):
    late = next(f for f in badinput.BAD if f.name == "late_day")

    # 00:15 in Los Angeles: 15 Nov ended a quarter of an hour ago; its new users are due by 06:00.
    _, reports, verdicts = run(late, tmp_path / "early", demo_warehouse, moment=DEMO_LOGICAL_DATE)
    assert reports["new_users"].success and reports["new_users"].through == "2026-11-14"
    by_goal = {v.goal: v for v in verdicts}
    assert by_goal["quarterly_new_users"].status == "off_track"
    assert by_goal["quarterly_new_users"].as_of == date(2026, 11, 14)  # judged on the days that are in
    assert by_goal["quarterly_revenue"].as_of == date(2026, 11, 15)

    # 10:00: past the deadline, the day is late; no verdict on the data that is there.
    _, reports, verdicts = run(late, tmp_path / "late", demo_warehouse)
    (finding,) = reports["new_users"].findings
    assert reports["new_users"].late
    assert finding.examples == ("day=2026-11-15, arrival=late, due=2026-11-16 06:00 PST",)
    assert {v.goal: v.status for v in verdicts}["quarterly_new_users"] == "data_issue"


def test_edited_suites_are_kept_and_used_and_follow_goals_yml_where_not_edited(tmp_path, demo_warehouse):
    from typer.testing import CliRunner

    from goalwatch.cli import app

    spike = next(f for f in badinput.BAD if f.name == "absurd_spike")
    path = badinput.write(spike, tmp_path, demo_warehouse)
    result = CliRunner().invoke(app, ["suites", "write", "--config", str(path)])
    assert result.exit_code == 0, result.output
    suite_path = tmp_path / "expectations" / "data_quality" / "new_users.json"
    suite = json.loads(suite_path.read_text())
    assert suite["meta"]["days"]["spike_factor"] == 10.0

    def check(s: dict, column: str) -> dict:
        return next(e for e in s["expectations"] if e["kwargs"].get("column") == column and "value_set" in e["kwargs"])

    # The owners know this metric spikes (they allow 40× the median), accept a region goals.yml
    # does not list yet, and turn off the check on plans.
    suite["meta"]["days"]["spike_factor"] = 40.0
    check(suite, "region")["kwargs"]["value_set"].append("LATAM")
    check(suite, "plan")["meta"]["enabled"] = False
    suite_path.write_text(json.dumps(suite))

    # goals.yml gains a dimension and a plan: checks still as generated follow it, edits stay.
    text = path.read_text()
    grown = text.replace(
        "dimensions:\n    - region\n    - plan\n    values:",
        "dimensions:\n    - region\n    - plan\n    - channel\n    values:",
        1,
    ).replace("      - enterprise\n", "      - enterprise\n      - team\n", 1)
    assert grown.count("- channel") == 1 and "- team" in grown
    path.write_text(grown)
    result = CliRunner().invoke(app, ["suites", "write", "--config", str(path)])
    assert f"added 1 and refreshed 3 check(s) in {suite_path}" in result.output  # not-null channel; schema, keys, plans
    suite = json.loads(suite_path.read_text())
    assert suite["meta"]["days"]["spike_factor"] == 40.0
    assert check(suite, "region")["kwargs"]["value_set"] == ["NA", "EU", "APAC", "LATAM"]  # kept as edited
    assert check(suite, "plan")["kwargs"]["value_set"] == ["starter", "pro", "enterprise", "team"]
    assert check(suite, "plan")["meta"]["enabled"] is False
    schema = next(e for e in suite["expectations"] if e["type"] == "expect_table_columns_to_match_set")
    assert "channel" in schema["kwargs"]["column_set"]

    # The edited suite is the one that runs: the spike is within the owners' bounds, and the
    # column the source does not have yet is a schema finding.
    config = load_config(path)
    report = check_data(config, "new_users", read_metric(config, "new_users"), as_of=date(2026, 11, 15))
    assert [f.examples for f in report.findings] == [("missing column channel",)]


def test_an_hourly_source_adds_up_into_days_of_the_time_zone(demo_warehouse):
    import pandas as pd

    from goalwatch.config import Metric
    from goalwatch.data.sources import normalise

    metric = Metric.model_validate({"source": {"path": "h.csv"}, "grain": "hour", "dimensions": ["region"]})
    hourly = pd.DataFrame(
        {
            "hour": [
                "2026-11-01T00:00:00-07:00",
                "2026-11-01T01:00:00-07:00",
                "2026-11-01T01:00:00-08:00",
                "2026-11-01 02:00:00",
                "2026-11-02T07:30:00Z",
                "2026-11-02T08:00:00Z",
            ],
            "region": ["NA"] * 6,
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    daily = normalise(hourly, metric, name="h", where="h.csv", timezone="America/Los_Angeles")

    # 07:30Z on 2 Nov is 23:30 on 1 Nov in Los Angeles; 08:00Z is midnight of 2 Nov.
    assert daily[["day", "region", "value", "hours"]].values.tolist() == [
        [date(2026, 11, 1), "NA", 15.0, 5],
        [date(2026, 11, 2), "NA", 6.0, 1],
    ]
    assert daily.attrs["columns"] == ["day", "region", "value"]


def test_the_weekly_digest_shows_a_data_issue_and_no_chart_drawn_from_bad_data(tmp_path, demo_warehouse, monkeypatch):

    from goalwatch.data.store import Store
    from goalwatch.runtime import tasks

    renamed = next(f for f in badinput.BAD if f.name == "renamed_column")
    config = load_config(badinput.write(renamed, tmp_path, demo_warehouse))
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "state"))
    for metric in config.metrics:
        Store().replace_metric(metric, read_metric(config, metric), as_of=date(2026, 11, 15), run_id="test")

    tasks.digest({"logical_date": datetime(2026, 11, 16, 17, 0, tzinfo=UTC)}, config=config)

    outbox = tmp_path / "state" / "outbox" / "2026-11-15"
    files = sorted(p.name for p in outbox.iterdir())
    assert files == [
        "digest-growth-goals-2026-11-15.png",
        "digest-hourly-goals-2026-11-15.png",
        "digest.growth-goals.2026-11-15.json",
        "digest.hourly-goals.2026-11-15.json",
        "digest.revenue-goals.2026-11-15.json",
    ]  # no chart for the revenue channel
    revenue = json.loads((outbox / "digest.revenue-goals.2026-11-15.json").read_text())
    text = json.dumps(revenue["blocks"])
    assert "Data issue" in text and "The source's columns changed" in text


def weekday_only(first: date, last: date, *, skip: tuple[date, ...] = ()):
    """A B2B-shaped source: three regions with rows on weekdays only."""
    import pandas as pd

    days = [d.date() for d in pd.date_range(first, last) if d.weekday() < 5 and d.date() not in skip]
    return pd.DataFrame([(d, r, 10.0) for d in days for r in ("NA", "EU", "APAC")], columns=["day", "region", "value"])


def quality(frame, as_of: date, moment: datetime | None = None):
    from goalwatch.checks.quality import data_quality_suite, validate_data
    from goalwatch.config import Metric

    metric = Metric.model_validate({"source": {"path": "x.csv"}, "dimensions": ["region"]})
    deadline = lambda day: datetime.combine(day + timedelta(days=1), time(6), ZoneInfo("UTC"))
    return validate_data(
        "deals",
        frame,
        data_quality_suite("deals", metric),
        as_of=as_of,
        moment=moment,
        deadline=deadline,
        timezone="UTC",
    )


def test_a_source_quiet_at_weekends_is_not_missing_or_late_at_weekends():
    # Data through Friday 13 Nov; the run is about Sunday 15 Nov, well past its deadline.
    report = quality(
        weekday_only(date(2026, 9, 1), date(2026, 11, 13)),
        date(2026, 11, 15),
        moment=datetime(2026, 11, 16, 12, tzinfo=ZoneInfo("UTC")),
    )
    assert report.success, report.findings


def test_a_weekday_without_rows_in_a_weekday_source_is_missing_and_one_not_arrived_is_late():
    wednesday = date(2026, 11, 4)
    report = quality(
        weekday_only(date(2026, 9, 1), date(2026, 11, 13), skip=(wednesday,)),
        date(2026, 11, 16),
        moment=datetime(2026, 11, 17, 7, tzinfo=ZoneInfo("UTC")),
    )
    by_title = {f.title.split(":")[0]: f for f in report.findings}
    assert set(by_title) == {"Missing days", "Data late"}
    assert by_title["Missing days"].examples == ("day=2026-11-04, arrival=missing",)
    # Monday 16 Nov is late; the weekend before it was quiet, as usual.
    assert by_title["Data late"].examples == ("day=2026-11-16, arrival=late, due=2026-11-17 06:00 UTC",)


def test_weeks_of_outage_stay_late_rather_than_becoming_usual_silence():
    report = quality(
        weekday_only(date(2026, 8, 3), date(2026, 10, 2)),
        date(2026, 11, 13),
        moment=datetime(2026, 11, 14, 7, tzinfo=ZoneInfo("UTC")),
    )
    (finding,) = report.findings
    # Every weekday of the 35 days judged (10 Oct – 13 Nov), though the last arrival was 2 Oct.
    assert finding.title.startswith("Data late") and finding.unexpected == 25


def test_the_watchdog_says_data_late_when_no_run_comes_and_evaluate_does_not_repeat_it(
    tmp_path, demo_warehouse, monkeypatch
):

    from goalwatch.data.store import Store
    from goalwatch.runtime import tasks

    late = next(f for f in badinput.BAD if f.name == "late_day")
    config = load_config(badinput.write(late, tmp_path, demo_warehouse))
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "state"))
    # Ingested at 00:15 in Los Angeles, when 15 Nov's new users were not due yet; no run since.
    for metric in config.metrics:
        Store().replace_metric(metric, read_metric(config, metric), as_of=date(2026, 11, 15), run_id="early")
    outbox = tmp_path / "state" / "outbox" / "2026-11-15"

    at = lambda hour: {"logical_date": datetime(2026, 11, 16, hour, 0, tzinfo=UTC)}
    assert tasks.watchdog(at(13), config=config)["late"] == []  # 05:00 in Los Angeles: not due yet
    assert tasks.watchdog(at(15), config=config)["late"] == ["data_late.new_users.2026-11-15"]  # 07:00: late
    alert = json.loads((outbox / "data_late.new_users.2026-11-15.json").read_text())
    assert alert["channel"] == "#goals"
    assert alert["blocks"][0]["text"]["text"] == ":hourglass_flowing_sand: Data late: metric new_users"
    assert "`quarterly_new_users`, `monthly_new_users`" in alert["blocks"][1]["text"]["text"]

    # The next watchdog run, and an evaluate run that finds the same, say nothing more.
    assert tasks.watchdog(at(16), config=config)["late"] == []
    as_of = {g.name: "2026-11-15" for g in config.goals}
    moment = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
    reports = tasks.check_data(as_of, config=config, moment=moment)
    verdicts = tasks.judge(as_of, reports, config=config)
    outcome = tasks.notify(verdicts, reports, config=config, run_id="late", moment=moment)
    assert "data_issue" not in outcome["planned"]
    assert sorted(p.name for p in outbox.glob("data*")) == ["data_late.new_users.2026-11-15.json"]


def daily(first: date, last: date, rows_of=lambda day: ("NA", "EU", "APAC"), *, skip: tuple[date, ...] = ()):
    import pandas as pd

    days = [d.date() for d in pd.date_range(first, last) if d.date() not in skip]
    return pd.DataFrame([(d, r, 10.0) for d in days for r in rows_of(d)], columns=["day", "region", "value"])


def test_a_day_long_past_is_not_judged_again_every_run():
    # One day with no rows 100 days back, and a launch-day spike 150 days back: both long past.
    frame = daily(date(2026, 1, 1), date(2026, 11, 15), skip=(date(2026, 8, 7),))
    frame.loc[frame["day"] == date(2026, 6, 18), "value"] = 5000.0
    assert quality(frame, date(2026, 11, 15)).success
    # The same day 20 days back is still a missing day.
    recent = daily(date(2026, 1, 1), date(2026, 11, 15), skip=(date(2026, 10, 26),))
    assert [f.title.split(":")[0] for f in quality(recent, date(2026, 11, 15)).findings] == ["Missing days"]


def test_a_day_still_arriving_waits_for_its_deadline_then_is_a_partial_day():
    partial = lambda day: ("NA",) if day == date(2026, 11, 15) else ("NA", "EU", "APAC")
    frame = daily(date(2026, 8, 1), date(2026, 11, 15), partial)
    early = quality(frame, date(2026, 11, 15), moment=datetime(2026, 11, 16, 1, tzinfo=ZoneInfo("UTC")))
    assert early.success and early.through == "2026-11-14"  # judged on the days that are in
    late = quality(frame, date(2026, 11, 15), moment=datetime(2026, 11, 16, 7, tzinfo=ZoneInfo("UTC")))
    assert [f.examples for f in late.findings] == [("day=2026-11-15, rows=1, rows_low=2",)]


def test_a_sparse_source_with_rows_only_for_active_segments_is_not_noise():
    import numpy as np

    rng = np.random.default_rng(3)
    segments = ("NA", "EU", "APAC", "LATAM")
    frame = daily(
        date(2026, 5, 1), date(2026, 11, 15), lambda day: tuple(s for s in segments if rng.random() < 0.5) or ("NA",)
    )
    report = quality(frame, date(2026, 11, 15))
    assert report.success, report.findings


def test_an_hourly_feed_that_skips_quiet_hours_is_not_missing_hours():
    import pandas as pd

    from goalwatch.checks.quality import data_quality_suite, validate_data
    from goalwatch.config import Metric
    from goalwatch.data.sources import normalise

    metric = Metric.model_validate({"source": {"path": "h.csv"}, "grain": "hour", "dimensions": ["region"]})
    stamps = pd.date_range("2026-09-01", "2026-11-16", freq="h", tz="America/Los_Angeles", inclusive="left")
    quiet = (stamps.hour >= 1) & (stamps.hour <= 4) & (stamps.day % 3 == 0)  # no sign-ups some nights
    hourly = pd.DataFrame({"hour": [t.isoformat() for t in stamps[~quiet]], "region": "NA", "value": 5.0})
    frame = normalise(hourly, metric, name="h", where="h.csv", timezone="America/Los_Angeles")
    report = validate_data(
        "h", frame, data_quality_suite("h", metric), as_of=date(2026, 11, 15), timezone="America/Los_Angeles"
    )
    assert report.success, report.findings


def test_a_new_metric_waits_for_its_day_then_reports_it_late():
    frame = daily(date(2026, 11, 10), date(2026, 11, 14))
    early = quality(frame, date(2026, 11, 15), moment=datetime(2026, 11, 16, 1, tzinfo=ZoneInfo("UTC")))
    assert early.success and early.through == "2026-11-14"
    late = quality(frame, date(2026, 11, 15), moment=datetime(2026, 11, 16, 7, tzinfo=ZoneInfo("UTC")))
    assert [f.late for f in late.findings] == [True]


def test_the_deadline_counts_real_hours_across_a_clock_change(tmp_path, demo_warehouse):
    from goalwatch.pipeline import deadline

    config = load_config(badinput.write(badinput.FIXTURES[0], tmp_path, demo_warehouse))
    # new_users: 6 hours after the day ends. Clocks go forward at 02:00 on 8 March.
    assert deadline(config, "new_users", date(2026, 3, 7)).isoformat() == "2026-03-08T07:00:00-07:00"
    assert deadline(config, "new_users", date(2026, 10, 31)).isoformat() == "2026-11-01T05:00:00-08:00"
    assert deadline(config, "revenue", date(2026, 11, 15)).isoformat() == "2026-11-16T09:00:00-08:00"


def test_whole_number_labels_match_their_listed_values(tmp_path):
    (tmp_path / "stores.csv").write_text(
        "day,store,value\n" + "".join(f"2026-11-{d:02d},{s},5\n" for d in range(1, 16) for s in (1, 2))
    )
    (tmp_path / "goals.yml").write_text(
        "metrics:\n  sales: {source: {path: stores.csv}, dimensions: [store], values: {store: ['1', '2']}}\n"
        "goals:\n  - {name: monthly_sales, metric: sales, period: month, target: 300}\n"
    )
    config = load_config(tmp_path / "goals.yml")
    assert check_data(config, "sales", read_metric(config, "sales"), as_of=date(2026, 11, 15)).success


def test_a_column_the_metric_does_not_expect_is_named_but_its_values_are_never_kept_or_shown(tmp_path, monkeypatch):
    from goalwatch.data.store import Store

    token = "-".join(["xoxb", "canary", "in", "a", "column"])
    (tmp_path / "users.csv").write_text(
        "day,value,api_token\n" + "".join(f"2026-11-{d:02d},{-3 if d == 9 else 5},{token}\n" for d in range(1, 16))
    )
    (tmp_path / "goals.yml").write_text(
        "metrics:\n  users: {source: {path: users.csv}}\n"
        "goals:\n  - {name: g, metric: users, period: month, target: 300}\n"
    )
    config = load_config(tmp_path / "goals.yml")
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "state"))
    store = Store()
    store.replace_metric("users", read_metric(config, "users"), as_of=date(2026, 11, 15), run_id="t")
    report = check_data(config, "users", store.metric_frame("users", ()), as_of=date(2026, 11, 15))

    described = "; ".join(f.describe() for f in report.findings)
    assert "unexpected column api_token" in described and "Negative values" in described
    assert token not in described and token.encode() not in (tmp_path / "state" / "store.db").read_bytes()


def test_the_watchdog_still_barks_when_a_suite_file_is_broken(tmp_path, demo_warehouse, monkeypatch):

    from goalwatch.runtime import tasks

    path = badinput.write(badinput.FIXTURES[0], tmp_path, demo_warehouse)
    (tmp_path / "expectations" / "data_quality").mkdir(parents=True)
    (tmp_path / "expectations" / "data_quality" / "revenue.json").write_text("{not json")
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "state"))
    outcome = tasks.watchdog({"logical_date": datetime(2026, 11, 16, 17, tzinfo=UTC)}, config=load_config(path))
    assert outcome["healthy"] is False and "no evaluation has succeeded yet" in outcome["reason"]


def test_a_check_goals_yml_no_longer_asks_for_goes_unless_it_was_edited():
    from goalwatch.checks.quality import data_quality_suite, merge_suite
    from goalwatch.config import Metric

    before = data_quality_suite("m", Metric.model_validate({"source": {"path": "m.csv"}, "values": {}}))
    kinds = lambda suite: [
        (e["type"], e["kwargs"].get("column"), e["meta"].get("check")) for e in suite["expectations"]
    ]
    assert ("expect_column_values_to_be_between", "value", None) in kinds(before)
    # The user widens the late check; then goals.yml says values may be negative and adds a dimension.
    late = next(e for e in before["expectations"] if e["meta"].get("check") == "late")
    late["kwargs"]["value_set"] = ["late", "not_due"]
    after = data_quality_suite(
        "m", Metric.model_validate({"source": {"path": "m.csv"}, "non_negative": False, "dimensions": ["region"]})
    )
    merged, added, refreshed = merge_suite(before, after)

    assert ("expect_column_values_to_be_between", "value", None) not in kinds(merged)  # goals.yml dropped it
    assert ("expect_column_values_to_be_unique", "day", None) not in kinds(merged)  # now one per day × region
    assert [e["kwargs"]["value_set"] for e in merged["expectations"] if e["meta"].get("check") == "late"] == [
        ["late", "not_due"]
    ]  # edited: kept, and not added again
    assert merge_suite(merged, after)[1:] == (0, 0)


def test_odd_source_columns_are_findings_not_crashes_or_kept_values(tmp_path):
    import pandas as pd

    from goalwatch.config import Metric
    from goalwatch.data.sources import normalise

    daily_metric = Metric.model_validate({"source": {"path": "x.parquet"}, "dimensions": ["region"]})
    # Parquet written by pandas brings back nullable dtypes: a missing region is pd.NA.
    pd.DataFrame(
        {
            "day": ["2026-11-01", "2026-11-02"],
            "region": pd.array(["NA", None], dtype="string"),
            "value": pd.array([1, 2], dtype="Int64"),
        }
    ).to_parquet(tmp_path / "x.parquet")
    frame = normalise(pd.read_parquet(tmp_path / "x.parquet"), daily_metric, name="x", where="x.parquet")
    assert frame["region"].tolist()[0] == "NA" and pd.isna(frame["region"].tolist()[1])

    # A daily source's column named `hour` is not a value to keep.
    secret = "-".join(["s3cr3t", "token"])
    frame = normalise(
        pd.DataFrame({"day": ["2026-11-01"], "region": ["NA"], "value": [1.0], "hour": [secret]}),
        daily_metric,
        name="x",
        where="x.csv",
    )
    assert frame.attrs["columns"] == ["day", "region", "value", "hour"] and secret not in frame.to_string()

    # An hourly source that also gives its own `day`: named in the schema finding, not a crash.
    hourly_metric = Metric.model_validate({"source": {"path": "h.csv"}, "dimensions": ["region"], "grain": "hour"})
    frame = normalise(
        pd.DataFrame({"day": ["2026-11-01"], "hour": ["2026-11-01T10:00:00Z"], "region": ["NA"], "value": [1.0]}),
        hourly_metric,
        name="h",
        where="h.csv",
    )
    assert frame.attrs["columns"] == ["day (beside hour)", "day", "region", "value"]
    assert frame[["day", "region", "value", "hours"]].values.tolist() == [[date(2026, 11, 1), "NA", 1.0, 1]]
