"""Which day a run is about: from the run (logical date, triggering events, run_after), never the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from goalwatch.runtime.tasks import run_as_of

LA = "America/Los_Angeles"


def event(as_of: str | None) -> SimpleNamespace:
    return SimpleNamespace(extra={"as_of": as_of} if as_of else {})


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(
            {"logical_date": datetime(2026, 11, 16, 8, 15, tzinfo=UTC)},
            date(2026, 11, 15),
            id="scheduled-run-at-00:15-LA",
        ),
        pytest.param(
            {"logical_date": datetime(2026, 11, 16, 7, 59, tzinfo=UTC)},
            date(2026, 11, 14),
            id="23:59-LA-the-day-is-not-over",
        ),
        pytest.param(
            {
                "triggering_asset_events": {"a": [event("2026-11-14")], "b": [event("2026-11-15"), event(None)]},
                "dag_run": SimpleNamespace(run_after=datetime(2027, 1, 1, tzinfo=UTC)),
            },
            date(2026, 11, 15),
            id="asset-run-takes-the-newest-announced-day",
        ),
        pytest.param(
            {
                "triggering_asset_events": {"a": [event(None)]},
                "dag_run": SimpleNamespace(run_after=datetime(2026, 11, 20, 12, tzinfo=UTC)),
            },
            date(2026, 11, 19),
            id="event-without-as-of-falls-back-to-run-after",
        ),
        pytest.param(
            {"logical_date": None, "dag_run": SimpleNamespace(run_after=datetime(2026, 3, 9, 9, tzinfo=UTC))},
            date(2026, 3, 8),
            id="manual-run-without-logical-date",
        ),
    ],
)
def test_run_as_of(context, expected):
    assert run_as_of(context, LA) == expected


def test_a_logical_date_wins_over_events():
    context = {
        "logical_date": datetime(2026, 2, 1, 12, tzinfo=UTC),
        "triggering_asset_events": {"a": [event("2026-11-15")]},
    }
    assert run_as_of(context, "UTC") == date(2026, 1, 31)
