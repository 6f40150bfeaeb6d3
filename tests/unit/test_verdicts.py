"""A verdict survives the trip through XCom and --json unchanged."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from goalwatch.core.pacing import _pivot
from goalwatch.core.verdicts import Verdict


def make(**changes) -> Verdict:
    base = dict(
        as_of=date(2026, 11, 15),
        goal="quarterly_new_users",
        label="New users",
        metric="new_users",
        unit=None,
        period="quarter",
        period_label="Q4 2026",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31),
        target=48000.0,
        actual_to_date=19732.0,
        expected_to_date=23951.0,
        pace_ratio=19732 / 23951,
        forecast=39523.0,
        forecast_low=38737.0,
        forecast_high=40325.0,
        miss_probability=0.99,
        channel="#growth-goals",
        segment="APAC/pro",
        explanation=(("NA", 0.44), ("EU", 0.37)),
        curve="seasonal",
        evidence=0.46,
        swings=3.2,
        required_rate=612.7,
        recent_rate=441.0,
        status="off_track",
        severity="critical",
    )
    return Verdict(**{**base, **changes})


def test_round_trip_through_json():
    v = make()
    assert Verdict.from_dict(json.loads(json.dumps(v.to_dict()))) == v


def test_a_verdict_without_numbers_goes_through_strict_json():
    nan = float("nan")
    v = make(
        actual_to_date=nan,
        expected_to_date=nan,
        pace_ratio=nan,
        forecast=nan,
        forecast_low=nan,
        forecast_high=nan,
        miss_probability=nan,
        status="data_issue",
        severity=None,
        segment=None,
    )
    text = json.dumps(v.to_dict(), allow_nan=False)  # XCom travels as strict JSON
    back = Verdict.from_dict(json.loads(text))
    assert (
        back.status == "data_issue"
        and back.pace_ratio != back.pace_ratio
        and back.forecast_ratio != back.forecast_ratio
    )


def test_json_carries_the_documented_keys():
    out = make().to_dict()
    assert {
        "as_of",
        "goal",
        "metric",
        "period_start",
        "period_end",
        "actual_to_date",
        "expected_to_date",
        "target",
        "pace_ratio",
        "forecast",
        "status",
        "segment",
        "forecast_low",
        "forecast_high",
    } <= set(out)
    assert (out["days_elapsed"], out["days_total"], out["days_left"]) == (46, 92, 46)


def test_pivot_of_no_rows_with_two_dimensions_is_empty_not_an_error():
    frame = pd.DataFrame({"day": [], "region": [], "plan": [], "value": []})
    names, matrix = _pivot(frame, ("region", "plan"), date(2026, 1, 1), date(2026, 1, 31))
    assert names == [] and matrix.shape == (0, 31)


def test_pivot_sums_duplicate_rows_and_marks_missing_days():
    frame = pd.DataFrame(
        {
            "day": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 3)],
            "region": ["EU", "EU", "NA"],
            "plan": ["pro", "pro", "pro"],
            "value": [1.0, 2.0, 5.0],
        }
    )
    names, matrix = _pivot(frame, ("region", "plan"), date(2026, 1, 1), date(2026, 1, 3))
    assert names == ["EU/pro", "NA/pro"]
    np.testing.assert_array_equal(matrix, [[3.0, np.nan, np.nan], [np.nan, np.nan, 5.0]])
