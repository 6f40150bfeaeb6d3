"""The Slack payloads: what a goal owner reads in the channel."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from goalwatch.alerting.render.messages import format_value, render_data_issue, render_group, render_verdict
from goalwatch.core.findings import Finding, QualityReport
from goalwatch.core.verdicts import Verdict
from tests.factories import monthly_verdict, q3_verdict

NOV_1 = date(2026, 11, 1)
NOV_10 = date(2026, 11, 10)
NOV_30 = date(2026, 11, 30)
HEADER_MAX = 150  # Slack's limit for a header block's text
SECTION_MAX = 3000  # Slack's limit for a section block's text
FIELD_MAX = 2000  # Slack's limit for each section field


def verdict(status: str = "off_track", severity: str | None = "critical", *, per_day: float = 90, **changes) -> Verdict:
    return monthly_verdict(status, severity, per_day=per_day, miss_probability=0.9, **changes)


def header_text(payload: dict) -> str:
    (header,) = [b for b in payload["blocks"] if b["type"] == "header"]
    return header["text"]["text"]


def section_texts(payload: dict) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b]


def fields(payload: dict) -> dict[str, str]:
    out = {}
    for block in payload["blocks"]:
        for field in block.get("fields", []):
            name, value = field["text"].split("\n", 1)
            out[name.strip("*")] = value
    return out


def all_text(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


# --- verdicts -------------------------------------------------------------------------------------


def test_verdict_payload_is_a_slack_message():
    payload = render_verdict(verdict())

    assert payload.keys() == {"channel", "text", "blocks"}
    assert payload["channel"] == "#revenue-goals"
    assert payload["text"]
    assert payload["blocks"][0]["type"] == "header"
    assert payload["blocks"][0]["text"]["type"] == "plain_text"
    assert json.loads(json.dumps(payload)) == payload


@pytest.mark.parametrize(
    ("status", "severity", "as_of", "per_day", "headline"),
    [
        pytest.param(
            "on_track",
            None,
            NOV_10,
            100,
            "On track: Revenue this month at 100.0% of pace",
            id="on-track",
        ),
        pytest.param(
            "at_risk",
            "warning",
            NOV_10,
            98,
            "At risk: Revenue this month at 98.0% of pace",
            id="at-risk",
        ),
        pytest.param(
            "off_track",
            "critical",
            NOV_10,
            90,
            "Off track: Revenue this month at 90.0% of pace",
            id="off-track",
        ),
        pytest.param(
            "achieved",
            None,
            NOV_30,
            110,
            "Achieved: Revenue this month closed at 110.0% of target",
            id="achieved",
        ),
        pytest.param(
            "missed",
            "critical",
            NOV_30,
            95,
            "Missed: Revenue this month closed at 95.0% of target",
            id="missed",
        ),
    ],
)
def test_header_says_status_goal_and_pace(status, severity, as_of, per_day, headline):
    text = header_text(render_verdict(verdict(status, severity, as_of=as_of, per_day=per_day)))

    assert text.endswith(headline)


def test_goal_period_and_as_of_are_named():
    payload = render_verdict(verdict())

    assert "`monthly_revenue` — Revenue this month, Nov 2026 (Nov 1 – Nov 30)" in section_texts(payload)[0]
    assert "as of 2026-11-10" in all_text(payload)
    assert "`revenue`" in all_text(payload)


def test_numbers_are_actual_expected_target_pace_days_left_forecast():
    assert fields(render_verdict(verdict(per_day=90))) == {
        "Actual to date": "$900",
        "Expected to date": "$1,000",
        "Target": "$3,000",
        "% of pace": "90.0%",
        "Days left": "20 of 30",
        "Forecast": "$2,700 (90.0% of target)",
        "Forecast range (80%)": "$2,565 – $2,835",
        "Chance of missing": "90%",
    }


def test_a_closed_period_shows_no_forecast_range():
    assert "Chance of missing" not in fields(render_verdict(verdict("missed", as_of=NOV_30)))


def test_the_segments_behind_the_gap_are_named():
    import dataclasses

    v = dataclasses.replace(verdict(), explanation=(("APAC/pro", 0.61), ("EU/starter", 0.25)))
    assert "*Behind the gap:* *APAC/pro* 61%, *EU/starter* 25%" in section_texts(render_verdict(v))


@pytest.mark.parametrize(
    ("status", "severity", "line"),
    [
        pytest.param("off_track", "critical", "*Status:* off track (critical)", id="critical"),
        pytest.param("off_track", "warning", "*Status:* off track (warning)", id="warning"),
        pytest.param("at_risk", "warning", "*Status:* at risk (warning)", id="at-risk"),
        pytest.param("on_track", None, "*Status:* on track", id="on-track-no-severity"),
    ],
)
def test_status_line(status, severity, line):
    (first, *_) = section_texts(render_verdict(verdict(status, severity)))

    assert first.endswith(line)


def test_notification_text_carries_the_numbers():
    text = render_verdict(verdict(per_day=90))["text"]

    for part in (
        "Off track",
        "Revenue this month",
        "Nov 2026",
        "90.0% of pace",
        "$900",
        "$1,000",
        "$2,700",
        "$3,000",
    ):
        assert part in text


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        pytest.param(2450000, "USD", "$2,450,000", id="usd-millions"),
        pytest.param(1234.6, "USD", "$1,235", id="usd-rounded-to-dollar"),
        pytest.param(0, "USD", "$0", id="usd-zero"),
        pytest.param(48000, "users", "48,000 users", id="other-unit"),
        pytest.param(48000, None, "48,000", id="no-unit"),
    ],
)
def test_format_value(value, unit, shown):
    assert format_value(value, unit) == shown


def test_count_metric_has_no_dollar_signs():
    payload = render_verdict(verdict(unit=None, per_day=90))

    assert "$" not in all_text(payload)
    assert fields(payload)["Actual to date"] == "900"


@pytest.mark.parametrize(
    "label",
    [
        pytest.param("Revenue this month", id="short-title"),
        pytest.param("Revenue " * 40, id="long-title"),
    ],
)
def test_header_fits_slack_limit(label):
    text = header_text(render_verdict(verdict(label=label)))

    assert len(text) <= HEADER_MAX
    assert text.startswith(":red_circle: Off track: Revenue")


@pytest.mark.parametrize(
    "label",
    [
        pytest.param("Revenue this month", id="short-title"),
        pytest.param(
            "Revenue " * 400,
            id="long-title",
        ),
    ],
)
def test_sections_fit_slack_limits(label):
    payload = render_verdict(verdict(label=label))

    assert all(len(text) <= SECTION_MAX for text in section_texts(payload))
    assert all(len(f"*{k}*\n{v}") <= FIELD_MAX for k, v in fields(payload).items())


# --- data issues ----------------------------------------------------------------------------------


def report(findings: int = 2) -> QualityReport:
    first = (
        Finding(
            "expect_column_values_to_not_be_null",
            "value",
            2,
            ("day=2026-11-03", "day=2026-11-04"),
            title="Rows without a value",
        ),
        Finding("expect_column_values_to_be_between", "value", 1, ("value=-40",), title="Negative values"),
    )
    more = tuple(
        Finding(f"expect_check_{i}", "region", 100, tuple(f"region={'x' * 80}{j}" for j in range(5)))
        for i in range(max(0, findings - 2))
    )
    return QualityReport(metric="revenue", rows=310, findings=(first + more)[:findings])


def test_data_issue_names_failed_expectations_and_goals():
    payload = render_data_issue(
        report(),
        goals=["monthly_revenue", "quarterly_revenue"],
        channel="#goals",
        as_of="2026-11-10",
    )

    assert payload.keys() == {"channel", "text", "blocks"}
    assert payload["channel"] == "#goals"
    assert header_text(payload) == ":warning: Data issue: metric revenue"
    (section,) = section_texts(payload)
    assert (
        "*Rows without a value* (`expect_column_values_to_not_be_null` on `value`): 2 rows, "
        "e.g. day=2026-11-03; day=2026-11-04"
    ) in section
    assert "*Negative values* (`expect_column_values_to_be_between` on `value`): 1 row, e.g. value=-40" in section
    assert "`monthly_revenue`, `quarterly_revenue`" in section
    assert "this is not a goal's status" in section
    assert "2 check(s) (Rows without a value; Negative values)" in payload["text"]
    assert "as of 2026-11-10" in all_text(payload)


def test_a_day_past_its_deadline_is_data_late_not_a_data_issue():
    late = Finding(
        "expect_column_values_to_not_be_in_set",
        "arrival",
        1,
        ("day=2026-11-15, arrival=late, due=2026-11-16 06:00 PST",),
        title="Data late: a day had not arrived by its deadline",
        on="days",
        late=True,
    )
    payload = render_data_issue(
        QualityReport(metric="new_users", rows=7000, findings=(late,)),
        goals=["quarterly_new_users"],
        channel="#data",
        as_of="2026-11-15",
    )

    assert header_text(payload) == ":hourglass_flowing_sand: Data late: metric new_users"
    (section,) = section_texts(payload)
    assert "has not arrived by its deadline" in section and "due=2026-11-16 06:00 PST" in section
    # Late together with anything else is a data issue.
    mixed = QualityReport(metric="new_users", rows=7000, findings=(late, *report().findings))
    assert header_text(render_data_issue(mixed, goals=["g"], channel="#data", as_of="2026-11-15")).startswith(
        ":warning: Data issue"
    )


def test_data_issue_with_many_findings_fits_slack_limits():
    payload = render_data_issue(report(60), goals=["monthly_revenue"], channel="#goals", as_of="2026-11-10")

    assert len(header_text(payload)) <= HEADER_MAX
    (section,) = section_texts(payload)
    assert len(section) <= SECTION_MAX
    assert "expect_column_values_to_not_be_null" in section
    assert "60 check(s)" in payload["text"]


HOSTILE = "<!channel> & <https://evil.example|click>"


def _mrkdwn_texts(payload: dict) -> list[str]:
    """Every text Slack reads as mrkdwn: the fallback ``text``, sections, fields and contexts."""
    out = [payload["text"]]
    for block in payload["blocks"]:
        if block["type"] == "header":
            continue  # plain text: Slack does not parse it
        if "text" in block:
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", [])]
    return out


def test_a_value_from_the_data_never_pings_or_links_in_any_renderer():
    from dataclasses import replace

    from goalwatch.alerting.render.digest import render_digest
    from goalwatch.alerting.render.messages import render_group, render_reply, render_unhealthy

    v = replace(monthly_verdict("off_track", "critical", label=HOSTILE), explanation=((HOSTILE, 0.6),), note=HOSTILE)
    finding = Finding("expect_column_values_to_be_in_set", "region", 1, examples=(f"region={HOSTILE}",), title=HOSTILE)
    payloads = [
        render_verdict(v),
        *render_group([v, replace(v, goal="other")]),
        *render_reply([(v, "transition")], channel="#revenue-goals"),
        *render_digest([v], channel="#revenue-goals", as_of=v.as_of),
        render_data_issue(
            QualityReport(metric="revenue", rows=10, findings=(finding,)), goals=["g"], channel="#c", as_of="x"
        ),
        render_unhealthy(dag_id="d", task_id="t", reason=HOSTILE, channel="#c", as_of="x", tries=1),
    ]
    for payload in payloads:
        texts = _mrkdwn_texts(payload)
        joined = "\n".join(texts)
        assert "<!channel>" not in joined and "<https://" not in joined, payload
        assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in joined, payload


def _text_chars(node) -> int:
    """Every character of text in a payload's blocks, counted by walking the JSON (not with the
    renderer's own counter)."""
    if isinstance(node, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_chars(v) for k, v in node.items())
    if isinstance(node, list):
        return sum(_text_chars(x) for x in node)
    return 0


@pytest.mark.parametrize("goals", [60, 100])
def test_many_goals_in_one_channel_stay_within_every_slack_limit(goals):
    from dataclasses import replace

    from goalwatch.alerting.render.digest import render_digest
    from goalwatch.alerting.render.messages import render_group, render_reply

    long_label = "Net new paying workspaces in the enterprise segment, all regions, all plans, this month ×"
    segments = tuple((f"segment number {n} with a long name", 0.2) for n in range(5))
    members = [
        replace(monthly_verdict("off_track", "critical", goal=f"goal_{n:03d}", label=long_label), explanation=segments)
        for n in range(goals)
    ]
    groups = render_group(members)
    replies = render_reply([(v, "transition") for v in members], channel="#revenue-goals")
    digests = render_digest(members, channel="#revenue-goals", as_of=members[0].as_of)
    for payloads in (groups, replies, digests):
        assert len(payloads) > 1  # too much for one message: it continues
        for payload in payloads:
            blocks = payload["blocks"]
            assert len(blocks) <= 50
            assert _text_chars(blocks) <= 12_000
            for block in blocks:
                if block["type"] == "header":
                    assert len(block["text"]["text"]) <= 150
                if block["type"] == "section":
                    assert len(block.get("text", {}).get("text", "")) <= 3000
                    assert len(block.get("fields", [])) <= 10
                if block["type"] == "context":
                    assert len(block["elements"]) <= 10
    # Every goal is in exactly one part of the grouped message.
    assert sorted(g for p in groups for g in p["_goals"]) == [v.goal for v in members]
    # and every goal's reply section is in exactly one part of the thread's reply.
    assert sum(1 for p in replies for b in p["blocks"] if b["type"] == "section") == goals


# --- what it would take ---------------------------------------------------------------------------
# A quarter of 92 days (Q3 2026, Jul 1 – Sep 30) seen on Aug 15, its 46th day: 46 days are left.
# The pacing fills ``required_rate`` and ``recent_rate``; the numbers below are worked by hand.

AUG_15 = date(2026, 8, 15)


def quarter(status: str = "off_track", severity: str | None = "critical", **changes) -> Verdict:
    """10,000 new users due in Q3, 5,400 by day 46: (10,000 - 5,400) / 46 = 100 a day needed."""
    numbers = dict(
        target=10_000.0,
        actual_to_date=5_400.0,
        expected_to_date=6_000.0,  # a seasonal curve, front-loaded
        pace_ratio=0.9,
        forecast=9_000.0,
        forecast_low=8_500.0,
        forecast_high=9_500.0,
        miss_probability=0.95,
        required_rate=(10_000 - 5_400) / 46,
        recent_rate=80.0,
    )
    return q3_verdict(changes.pop("as_of", AUG_15), status, severity, **{**numbers, **changes})


def asks(payload: dict) -> list[str]:
    """The sections that say what reaching the target takes (or that it is reached)."""
    return [t for t in section_texts(payload) if t.startswith(("Needs", "Below pace", "The target", "Already"))]


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        pytest.param({}, "Needs 100 a day for the 46 days left, +25% on the last 4 weeks.", id="100-vs-80"),
        pytest.param(
            # (100,000 - 51,700) / 46 = 1,050 a day against 750: 1,050 / 750 = 1.4
            dict(unit="USD", target=100_000.0, actual_to_date=51_700.0, required_rate=1_050.0, recent_rate=750.0),
            "Needs $1,050 a day for the 46 days left, +40% on the last 4 weeks.",
            id="usd",
        ),
        pytest.param(
            dict(unit="users", recent_rate=125.0),
            "Needs 100 users a day for the 46 days left, -20% on the last 4 weeks.",
            id="unit-and-less-than-recently",
        ),
        pytest.param(
            # a level of 4,480 active accounts to bring to 10,000: 5,520 / 46 = +120 a day, against +96
            dict(kind="level", actual_to_date=4_480.0, required_rate=120.0, recent_rate=96.0),
            "Needs +120 a day for the 46 days left, +25% on the last 4 weeks.",
            id="level",
        ),
        pytest.param(
            dict(kind="level", actual_to_date=4_480.0, required_rate=120.0, recent_rate=-40.0),
            "Needs +120 a day for the 46 days left, against -40 a day over the last 4 weeks.",
            id="level-falling-lately",
        ),
        pytest.param(
            dict(kind="growth"), "Needs 100 a day for the 46 days left, +25% on the last 4 weeks.", id="growth"
        ),
        pytest.param(dict(recent_rate=float("nan")), "Needs 100 a day for the 46 days left.", id="no-recent-rate"),
        pytest.param(dict(recent_rate=0.0), "Needs 100 a day for the 46 days left.", id="nothing-lately"),
        pytest.param(
            dict(recent_rate=100.2),
            "Needs 100 a day for the 46 days left, the same as over the last 4 weeks.",
            id="same",
        ),
        pytest.param(
            # 30 deals due, 7 in: 23 / 46 = 0.5 a day, which must not read as 0
            dict(target=30.0, actual_to_date=7.0, required_rate=0.5, recent_rate=0.4),
            "Needs 0.5 a day for the 46 days left, +25% on the last 4 weeks.",
            id="a-few-a-day",
        ),
        pytest.param(
            dict(as_of=date(2026, 9, 29), required_rate=300.0, recent_rate=100.0),
            "Needs 300 a day for the last day, +200% on the last 4 weeks.",
            id="one-day-left",
        ),
        pytest.param(
            dict(actual_to_date=10_050.0, required_rate=-50 / 46, status="at_risk", severity="warning"),
            "The target is already reached.",
            id="total-reached",
        ),
        pytest.param(
            dict(kind="level", actual_to_date=10_460.0, required_rate=-10.0),
            "Already at the target; it has to hold for the 46 days left.",
            id="level-reached",
        ),
    ],
)
def test_an_alert_says_what_it_would_take(changes, line):
    v = quarter(**changes)
    payload = render_verdict(v)

    assert asks(payload) == [line]
    assert payload["text"].endswith(" " + line)
    (group,) = render_group([v, dataclasses.replace(v, goal="other")])
    assert line in section_texts(group)[0] and line in section_texts(group)[1]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(dict(required_rate=float("nan")), id="no-required-rate"),
        pytest.param(dict(required_rate=float("nan"), recent_rate=float("nan")), id="no-rates"),
        pytest.param(dict(kind="ratio", unit=None), id="ratio"),
        pytest.param(dict(status="on_track", severity=None), id="on-track"),
        pytest.param(dict(status="missed", as_of=date(2026, 9, 30)), id="missed"),
        pytest.param(dict(status="achieved", severity=None, as_of=date(2026, 9, 30)), id="achieved"),
        pytest.param(dict(status="off_track", as_of=date(2026, 9, 30)), id="closed-off-track"),
        pytest.param(dict(status="data_issue", severity=None), id="data-issue"),
    ],
)
def test_an_alert_without_a_rate_to_ask_for_leaves_the_sentence_out(changes):
    v = quarter(**changes)
    payload = render_verdict(v)

    assert asks(payload) == []
    assert "a day" not in all_text(payload) and "n/a" not in all_text(payload)
    (group,) = render_group([v, dataclasses.replace(v, goal="other")])
    assert "a day" not in all_text(group)


@pytest.mark.parametrize(
    ("status", "severity", "swings", "says"),
    [
        pytest.param("off_track", "critical", 3.2, True, id="off-track-beyond-its-swing"),
        pytest.param("off_track", "warning", 3.2, True, id="off-track-warning-beyond"),
        pytest.param("off_track", "critical", 1.5, False, id="off-track-within-its-swing"),
        pytest.param("off_track", "critical", float("nan"), False, id="no-swing-measured"),
        pytest.param("at_risk", "warning", 3.2, False, id="at-risk"),
        pytest.param("on_track", None, 3.2, False, id="on-track"),
    ],
)
def test_an_off_track_gap_beyond_the_usual_swing_is_said(status, severity, swings, says):
    v = quarter(status, severity, swings=swings, min_swings=2.0, required_rate=float("nan"))
    line = "Below pace by more than the usual daily swing."

    assert (asks(render_verdict(v)) == [line]) is says
    assert (line in _line_of(v)) is says


def test_the_swing_follows_the_rate_in_one_line():
    v = quarter(swings=3.2)

    assert asks(render_verdict(v)) == [
        "Needs 100 a day for the 46 days left, +25% on the last 4 weeks. Below pace by more than the usual daily swing."
    ]
    assert "Below pace" not in render_verdict(v)["text"]  # the notification carries the rate only


def _line_of(v: Verdict) -> str:
    (group,) = render_group([v, dataclasses.replace(v, goal="other")])
    return section_texts(group)[0]


def test_the_segment_behind_most_of_the_gap_is_named_once_and_escaped():
    v = quarter(explanation=(("<!channel>", 0.61), ("EU", 0.25)))
    payload = render_verdict(v)

    texts = section_texts(payload)
    assert "*Behind the gap:* *&lt;!channel&gt;* 61%, *EU* 25%" in texts
    assert sum("&lt;!channel&gt;" in t for t in texts) == 1  # the rate's line does not repeat it
    assert "<!channel>" not in "\n".join(_mrkdwn_texts(payload))
    assert _line_of(v).count("&lt;!channel&gt;") == 1 and "<!channel>" not in _line_of(v)


def test_a_unit_from_goals_yml_is_escaped_in_the_rate():
    v = quarter(unit="<!here>")

    assert asks(render_verdict(v)) == ["Needs 100 &lt;!here&gt; a day for the 46 days left, +25% on the last 4 weeks."]
    assert "<!here> a day" not in render_verdict(v)["text"]


@pytest.mark.parametrize(
    ("pacing", "curve", "said"),
    [
        pytest.param("linear", "", "· linear pacing · range from the series' own daily variation", id="linear"),
        pytest.param(
            "seasonal", "seasonal", "· seasonal pacing · range from the series' own daily variation", id="seasonal"
        ),
        pytest.param(
            "auto",
            "seasonal",
            "· seasonal pacing (auto: least error over 8 past periods) · range from the series' own daily variation",
            id="auto-chose",
        ),
        pytest.param(
            "auto",
            "linear",
            "· linear pacing (auto: fewer than 3 past periods to compare the curves on) "
            "· range from the series' own daily variation",
            id="auto-without-a-comparison",
        ),
        pytest.param(
            "auto", "", "· auto pacing · range from the series' own daily variation", id="auto-not-yet-chosen"
        ),
    ],
)
def test_the_context_names_the_curve_paced_on(pacing, curve, said):
    # The note as the pacing writes it: auto's choice first, then the rest.
    why = {
        "seasonal": "least error over 8 past periods",
        "linear": "fewer than 3 past periods to compare the curves on",
    }
    notes = [f"auto pacing chose {curve}: {why[curve]}"] if pacing == "auto" and curve else []
    note = "; ".join([*notes, "range from the series' own daily variation"])
    context = render_verdict(quarter(pacing=pacing, curve=curve, note=note))["blocks"][-1]["elements"][0]["text"]

    assert context.endswith(said)
    assert "auto" not in context or pacing == "auto"
    assert context.count("auto pacing chose") == 0  # said once, as the curve's reason


def test_the_rate_line_fits_slack_limits_with_a_long_unit():
    payload = render_verdict(quarter(unit="x" * 5000, swings=3.2))

    assert all(len(text) <= SECTION_MAX for text in section_texts(payload))
    assert len(payload["text"]) <= 3000


def test_a_unit_from_goals_yml_never_pings_in_the_numbers():
    from goalwatch.alerting.render.digest import render_digest
    from goalwatch.alerting.render.messages import render_reply

    v = quarter(unit="<!here>")
    payloads = [
        render_verdict(v),
        *render_group([v, dataclasses.replace(v, goal="other")]),
        *render_reply([(v, "transition")], channel="#growth-goals"),
        *render_digest([v], channel="#growth-goals", as_of=v.as_of),
    ]
    for payload in payloads:
        joined = "\n".join(_mrkdwn_texts(payload))
        assert "<!here>" not in joined and "9,000 &lt;!here&gt;" in joined, payload
