"""The weekly digest: every goal of a channel, worst first, split to fit Slack's limits."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

import pytest

from goalwatch.alerting.render.digest import render_digest
from goalwatch.core.verdicts import Verdict
from tests.factories import NOV_10, NOV_30, monthly_verdict

NOV_15 = date(2026, 11, 15)
MAX_BLOCKS = 50  # Slack's limit of blocks in one message
SECTION_MAX = 3000  # Slack's limit for a section block's text
HEADER_MAX = 150  # Slack's limit for a header block's text
GOAL_ID = re.compile(r"\(`([^`]+)`\)")


def verdict(status: str = "on_track", severity: str | None = None, **changes) -> Verdict:
    return monthly_verdict(status, severity, **changes)


def every_status() -> list[Verdict]:
    """One goal per status, shuffled; the goal id names the status."""
    return [
        verdict("on_track", goal="g_on_track", per_day=101),
        verdict("achieved", goal="g_achieved", as_of=NOV_30, per_day=110),
        verdict("off_track", "warning", goal="g_off_warning", per_day=95),
        verdict("data_issue", goal="g_data_issue", note="data checks failed: 3 nulls"),
        verdict("missed", "critical", goal="g_missed", as_of=NOV_30, per_day=80),
        verdict("at_risk", "warning", goal="g_at_risk", per_day=98),
        verdict("off_track", "critical", goal="g_off_critical", per_day=85),
    ]


def digest(verdicts, **kwargs) -> list[dict]:
    return render_digest(verdicts, channel=kwargs.pop("channel", "#goals"), as_of=NOV_15, **kwargs)


def goal_sections(payload: dict) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


def goal_ids(payloads: list[dict]) -> list[str]:
    return [GOAL_ID.search(text).group(1) for p in payloads for text in goal_sections(p)]


def header_text(payload: dict) -> str:
    (header,) = [b for b in payload["blocks"] if b["type"] == "header"]
    return header["text"]["text"]


def test_digest_is_a_slack_message_for_the_channel():
    (payload,) = digest(every_status(), channel="#leadership")

    assert payload.keys() == {"channel", "text", "blocks"}
    assert payload["channel"] == "#leadership"
    assert header_text(payload) == ":bar_chart: Weekly goals digest — as of 2026-11-15"
    assert payload["blocks"][0]["type"] == "header"
    assert json.loads(json.dumps(payload)) == payload


def test_goals_are_ordered_worst_first():
    payloads = digest(every_status())

    assert goal_ids(payloads) == [
        "g_missed",
        "g_off_critical",
        "g_off_warning",
        "g_at_risk",
        "g_data_issue",
        "g_on_track",
        "g_achieved",
    ]


def test_within_a_status_the_furthest_from_target_comes_first():
    verdicts = [
        verdict("off_track", "critical", goal="a_close", per_day=89),
        verdict("off_track", "critical", goal="b_far", per_day=60),
        verdict("off_track", "critical", goal="c_middle", per_day=75),
    ]

    assert goal_ids(digest(verdicts)) == ["b_far", "c_middle", "a_close"]


def test_segment_verdicts_are_left_out():
    verdicts = [
        verdict("off_track", "critical", goal="monthly_revenue"),
        verdict("off_track", "critical", goal="monthly_revenue", segment="EU"),
        verdict("on_track", goal="monthly_signups", segment="APAC"),
    ]
    (payload,) = digest(verdicts)

    assert goal_ids([payload]) == ["monthly_revenue"]
    assert "EU" not in json.dumps(payload)
    assert payload["text"].endswith("1 goal: 1 off track")


@pytest.mark.parametrize(
    ("status", "severity", "as_of", "starts"),
    [
        pytest.param("missed", "critical", NOV_30, ":x: *Missed* ·", id="missed"),
        pytest.param("off_track", "critical", NOV_10, ":red_circle: *Off track* (critical) ·", id="off-track-critical"),
        pytest.param(
            "off_track", "warning", NOV_10, ":large_orange_circle: *Off track* (warning) ·", id="off-track-warning"
        ),
        pytest.param("at_risk", "warning", NOV_10, ":large_yellow_circle: *At risk* ·", id="at-risk"),
        pytest.param("data_issue", None, NOV_10, ":warning: *Data issue* ·", id="data-issue"),
        pytest.param("on_track", None, NOV_10, ":large_green_circle: *On track* ·", id="on-track"),
        pytest.param("achieved", None, NOV_30, ":tada: *Achieved* ·", id="achieved"),
    ],
)
def test_emoji_and_word_per_status(status, severity, as_of, starts):
    (payload,) = digest([verdict(status, severity, as_of=as_of)])
    (section,) = goal_sections(payload)

    assert section.startswith(starts)
    assert "*Revenue this month* (`monthly_revenue`), Nov 2026" in section


def test_an_open_goal_shows_pace_forecast_range_and_days_left():
    (payload,) = digest([verdict("off_track", "critical", as_of=NOV_10, per_day=90)])
    (section,) = goal_sections(payload)

    assert section.split("\n")[1] == (
        "90.0% of pace · forecast $2,700 (90.0% of target) · range $2,565 – $2,835 · 20 days left"
    )


@pytest.mark.parametrize(
    ("as_of", "left"),
    [
        pytest.param(date(2026, 11, 29), "1 day left", id="singular"),
        pytest.param(date(2026, 11, 28), "2 days left", id="plural"),
    ],
)
def test_days_left_reads_well(as_of, left):
    (payload,) = digest([verdict(as_of=as_of)])

    assert goal_sections(payload)[0].endswith(" · " + left)


def test_a_closed_goal_shows_where_it_closed_not_a_forecast():
    (payload,) = digest([verdict("missed", "critical", as_of=NOV_30, per_day=95)])
    (section,) = goal_sections(payload)

    assert section.split("\n")[1] == "Closed at $2,850 of $3,000 (95.0% of target)"
    assert "range" not in section and "left" not in section


def test_a_data_issue_shows_its_note_not_numbers():
    (payload,) = digest([verdict("data_issue", note="data checks failed: 3 nulls in revenue")])
    (section,) = goal_sections(payload)

    assert section.split("\n")[1] == (
        "No verdict until its data passes the checks: data checks failed: 3 nulls in revenue"
    )
    assert "$" not in section


def test_a_growth_goal_without_a_baseline_is_not_blamed_on_the_data_checks():
    note = "no baseline: the previous period has no data, so growth against it cannot be judged"
    (payload,) = digest([verdict("data_issue", note=note)])
    (section,) = goal_sections(payload)

    assert section.split("\n")[1] == f"No verdict: {note}"
    assert "checks" not in section


@pytest.mark.parametrize(
    ("unit", "forecast", "target"),
    [
        pytest.param("USD", "$2,700", "$3,000", id="usd"),
        pytest.param("users", "2,700 users", "3,000 users", id="units"),
        pytest.param(None, "2,700 (", "3,000", id="no-unit"),
    ],
)
def test_values_are_formatted_with_their_unit(unit, forecast, target):
    open_goal, closed_goal = digest(
        [
            verdict("off_track", "critical", per_day=90, unit=unit),
            verdict("achieved", as_of=NOV_30, per_day=100, unit=unit),
        ]
    )[0]["blocks"][2:4]

    assert f"forecast {forecast}" in open_goal["text"]["text"]
    assert f"of {target} (" in closed_goal["text"]["text"]
    if unit != "USD":
        assert "$" not in open_goal["text"]["text"] + closed_goal["text"]["text"]


@pytest.mark.parametrize(
    ("verdicts", "summary"),
    [
        pytest.param(
            [
                verdict("off_track", "critical", goal="a"),
                verdict("at_risk", "warning", goal="b"),
                verdict("on_track", goal="c"),
            ],
            "3 goals: 1 off track, 1 at risk, 1 on track",
            id="one-each",
        ),
        pytest.param(
            [
                verdict("on_track", goal="a"),
                verdict("off_track", "warning", goal="b"),
                verdict("off_track", "critical", goal="c"),
                verdict("on_track", goal="d"),
            ],
            "4 goals: 2 off track, 2 on track",
            id="severities-counted-together",
        ),
        pytest.param(
            every_status(),
            "7 goals: 1 missed, 2 off track, 1 at risk, 1 data issue, 1 on track, 1 achieved",
            id="every-status",
        ),
        pytest.param([verdict("achieved", as_of=NOV_30)], "1 goal: 1 achieved", id="singular"),
    ],
)
def test_text_fallback_counts_goals_per_status(verdicts, summary):
    payloads = digest(verdicts)

    assert payloads[0]["text"] == f"Weekly goals digest — as of 2026-11-15: {summary}"
    assert payloads[0]["blocks"][1]["elements"][0]["text"] == summary


def test_no_goals_is_still_a_digest():
    (payload,) = digest([verdict(segment="EU")])

    assert payload["text"] == "Weekly goals digest — as of 2026-11-15: no goals"
    assert goal_sections(payload) == ["No goals to report."]


def test_a_pending_verdict_is_refused_by_name():
    pending = dataclasses.replace(verdict(goal="monthly_signups"), status="pending")

    with pytest.raises(ValueError, match="monthly_signups.*pending"):
        digest([verdict(), pending])


def many_goals(n: int, *, label: str = "Revenue this month") -> list[Verdict]:
    statuses = [("off_track", "critical"), ("at_risk", "warning"), ("on_track", None)]
    return [verdict(*statuses[i % 3], goal=f"goal_{i:03d}", label=label, per_day=80 + i % 30) for i in range(n)]


@pytest.mark.parametrize(
    "label",
    [
        pytest.param("Revenue this month", id="short-labels"),
        pytest.param("Revenue & signups <EU> " * 20, id="long-labels-to-escape"),
    ],
)
def test_120_goals_are_split_within_slack_limits_and_none_is_lost(label):
    verdicts = many_goals(120, label=label)
    payloads = digest(verdicts)

    assert len(payloads) > 1
    for payload in payloads:
        assert payload["channel"] == "#goals"
        assert len(payload["blocks"]) <= MAX_BLOCKS
        assert len(header_text(payload)) <= HEADER_MAX
        assert all(len(text) <= SECTION_MAX for text in goal_sections(payload))
        assert goal_sections(payload)
    ids = goal_ids(payloads)
    assert sorted(ids) == sorted(v.goal for v in verdicts)
    assert len(set(ids)) == len(ids)
    assert ids == goal_ids(digest(list(reversed(verdicts))))


def test_every_payload_stays_under_the_message_size_slack_accepts():
    # Slack answers msg_blocks_too_long at about 13,200 characters of blocks
    # (slackapi/bolt-js#2509).
    for payload in digest(many_goals(120, label="Revenue & signups <EU> " * 20)):
        total = sum(len(b["text"]["text"]) for b in payload["blocks"] if "text" in b)
        total += sum(len(e["text"]) for b in payload["blocks"] for e in b.get("elements", ()))
        assert total < 13_000


def test_continued_payloads_are_marked_and_say_which_goals_they_hold():
    first, *rest = digest(many_goals(120))

    assert "(continued)" not in header_text(first)
    assert first["text"].endswith("120 goals: 40 off track, 40 at risk, 40 on track")
    assert rest
    shown = len(goal_sections(first))
    for payload in rest:
        count = len(goal_sections(payload))
        assert header_text(payload) == (":bar_chart: Weekly goals digest — as of 2026-11-15 (continued)")
        assert payload["text"] == (
            f"Weekly goals digest — as of 2026-11-15 (continued): goals {shown + 1}–{shown + count} of 120"
        )
        shown += count
    assert shown == 120


def test_a_long_title_keeps_the_date_and_the_continued_mark_in_the_header():
    title = "Goals of the revenue, growth and retention teams " * 5
    payloads = digest(many_goals(120), title=title)

    for payload in payloads:
        text = header_text(payload)
        assert len(text) <= HEADER_MAX
        assert "— as of 2026-11-15" in text
    assert header_text(payloads[-1]).endswith("(continued)")


def test_labels_are_escaped_for_slack_mrkdwn():
    (payload,) = digest([verdict(label="R&D <EU> goal")])

    assert "*R&amp;D &lt;EU&gt; goal*" in goal_sections(payload)[0]


def test_a_long_label_is_cut_short():
    (payload,) = digest([verdict(label="x" * 500)])
    (section,) = goal_sections(payload)

    assert "*" + "x" * 99 + "…*" in section
    assert "x" * 100 not in section
