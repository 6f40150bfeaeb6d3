"""The pace chart: a deterministic PNG of actual against pace, target and forecast."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num
from matplotlib.image import imread
from matplotlib.text import Text

from goalwatch.alerting.render.charts import ChartData, draw_chart, render_chart

NOV_1 = date(2026, 11, 1)
NOV_12 = date(2026, 11, 12)
NOV_30 = date(2026, 11, 30)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ACTUAL_BLUE = (0x1F, 0x77, 0xB4)
WEDGE_ORANGE = (255, 229, 207)  # #ff7f0e at 20% over white


def chart(
    *,
    as_of: date = NOV_12,
    per_day: float = 90,
    unit: str | None = "USD",
    kind: str = "total",
    title: str = "Revenue this month — Nov 2026",
    start: date = NOV_1,
    end: date = NOV_30,
) -> ChartData:
    """A linear-paced goal of 100 a day over start..end with ``per_day`` every day to ``as_of``."""
    n = (end - start).days + 1
    days = tuple(start + timedelta(i) for i in range(n))
    done = min((as_of - start).days + 1, n)
    actual = tuple(per_day * (i + 1) if i < done else None for i in range(n))
    forecast = per_day * n
    return ChartData(
        title=title,
        unit=unit,
        kind=kind,
        period_start=start,
        period_end=end,
        as_of=as_of,
        days=days,
        actual=actual,
        expected=tuple(100.0 * (i + 1) for i in range(n)),
        target=100.0 * n,
        forecast=forecast,
        forecast_low=forecast * 0.9,
        forecast_high=forecast * 1.1,
    )


def pixels(png: bytes) -> np.ndarray:
    """The image as an (height, width, 3) array of 0..255 RGB."""
    return np.round(imread(io.BytesIO(png), format="png")[..., :3] * 255).astype(int)


def count_color(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 3) -> int:
    return int((np.abs(image - np.array(rgb)).max(axis=-1) <= tolerance).sum())


def drawn(data: ChartData):
    figure = draw_chart(data)
    FigureCanvasAgg(figure).draw()
    return figure, figure.axes[0]


def test_render_gives_a_png():
    png = render_chart(chart())

    assert png.startswith(PNG_SIGNATURE)
    assert 10_000 < len(png) < 500_000


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(960, 480, id="default"),
        pytest.param(640, 400, id="small"),
        pytest.param(1601, 803, id="odd-sizes"),
    ],
)
def test_image_has_the_asked_size(width, height):
    image = pixels(render_chart(chart(), width_px=width, height_px=height))

    assert image.shape == (height, width, 3)


def test_too_small_a_chart_is_refused():
    with pytest.raises(ValueError, match="too small"):
        render_chart(chart(), width_px=100, height_px=60)


def test_same_data_gives_the_same_bytes():
    assert render_chart(chart()) == render_chart(chart())


def test_no_timestamp_or_software_tag_in_the_png():
    png = render_chart(chart())

    assert b"tIME" not in png
    assert b"Software" not in png
    assert b"matplotlib" not in png.lower()


def test_threads_drawing_at_once_get_the_same_bytes():
    expected = render_chart(chart())

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_chart(chart()), range(8)))

    assert all(png == expected for png in results)


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({"per_day": 80}, id="actual"),
        pytest.param({"as_of": date(2026, 11, 13)}, id="as-of"),
        pytest.param({"title": "Signups this month"}, id="title"),
        pytest.param({"unit": "users"}, id="unit"),
    ],
)
def test_different_data_gives_different_bytes(changed):
    assert render_chart(chart(**changed)) != render_chart(chart())


@pytest.mark.parametrize(
    ("unit", "tick", "ylabel", "target_label"),
    [
        pytest.param("USD", "$1,200", "USD to date", "Target $3,000", id="usd"),
        pytest.param("users", "1,200", "users to date", "Target 3,000 users", id="units"),
        pytest.param(None, "1,200", "To date", "Target 3,000", id="no-unit"),
    ],
)
def test_y_axis_and_legend_are_formatted_like_messages(unit, tick, ylabel, target_label):
    _figure, ax = drawn(chart(unit=unit))
    ticks = [label.get_text() for label in ax.get_yticklabels()]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]

    assert tick in ticks
    assert all(("$" in t) == (unit == "USD") for t in ticks if t)
    assert ax.get_ylabel() == ylabel
    assert target_label in legend


def test_a_ratio_goal_keeps_two_decimals_on_the_axis():
    data = dataclasses.replace(
        chart(unit=None, kind="ratio"),
        actual=tuple(None if v is None else 0.01 * i / 30 for i, v in enumerate(chart().actual)),
        expected=tuple(0.02 * (i + 1) / 30 for i in range(30)),
        target=0.02,
        forecast=0.018,
        forecast_low=0.015,
        forecast_high=0.021,
    )
    _figure, ax = drawn(data)

    assert "0.02" in [label.get_text() for label in ax.get_yticklabels()]


def test_legend_names_every_line_of_an_open_period():
    _figure, ax = drawn(chart())

    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Pace (expected to date)",
        "Actual to date",
        "Target $3,000",
        "Forecast range $2,430 – $2,970",
        "Forecast $2,700",
    ]
    assert ax.get_title(loc="left") == "Revenue this month — Nov 2026"
    assert "as of Nov 12" in [t.get_text() for t in ax.texts]


def test_a_closed_period_has_no_forecast_but_still_draws():
    data = chart(as_of=NOV_30, per_day=95)
    _figure, ax = drawn(data)
    image = pixels(render_chart(data))

    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Pace (expected to date)",
        "Actual to date",
        "Target $3,000",
    ]
    assert len(ax.collections) == 0  # fill_between would add the wedge here
    assert count_color(image, WEDGE_ORANGE) == 0
    assert count_color(image, ACTUAL_BLUE, tolerance=0) > 500


def test_an_open_period_shades_the_forecast_wedge():
    image = pixels(render_chart(chart()))

    # Far more than the legend's swatch of the same colour: the wedge itself is drawn.
    assert count_color(image, WEDGE_ORANGE) > 5_000


def test_the_actual_line_stops_at_the_as_of_day():
    data = chart()
    figure, ax = drawn(data)
    image = pixels(render_chart(data))
    height = image.shape[0]
    x_as_of, _ = ax.transData.transform((date2num(data.as_of), 0))
    legend = ax.get_legend().get_window_extent()
    blue = np.abs(image - np.array(ACTUAL_BLUE)).max(axis=-1) <= 3
    # Display coordinates count up from the bottom; image rows count down from the top.
    blue[int(height - legend.y1) - 2 : int(height - legend.y0) + 2, int(legend.x0) - 2 : int(legend.x1) + 2] = False
    columns = np.flatnonzero(blue.any(axis=0))

    assert columns.size > 0
    # The as-of marker (6 pt wide) reaches a few pixels past the line's end, no further.
    assert columns.max() <= x_as_of + 8
    assert columns.max() >= x_as_of - 1


def test_a_period_of_a_year_draws_too():
    data = chart(start=date(2026, 1, 1), end=date(2026, 12, 31), as_of=date(2026, 7, 4))

    assert pixels(render_chart(data)).shape == (480, 960, 3)


def test_as_of_later_than_the_period_end_is_a_closed_period():
    data = chart(as_of=date(2026, 12, 3))
    _figure, ax = drawn(data)

    assert data.closed
    assert len(ax.collections) == 0
    assert "as of Dec 3" in [t.get_text() for t in ax.texts]


def test_as_of_before_the_period_starts_is_refused():
    with pytest.raises(ValueError, match="before the period starts .* no actual to chart yet"):
        chart(as_of=date(2026, 10, 31))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda d: {"days": d.days[:-1]}, "every day from 2026-11-01 to 2026-11-30", id="a-day-missing"),
        pytest.param(lambda d: {"expected": d.expected[:-1]}, "expected has 29 values", id="short-pace"),
        pytest.param(
            lambda d: {"actual": (None,) + d.actual[1:]}, "actual on 2026-11-01 is missing", id="gap-before-as-of"
        ),
        pytest.param(lambda d: {"actual": d.actual[:-1] + (1.0,)}, "after as_of", id="actual-after-as-of"),
        pytest.param(lambda d: {"forecast": float("nan")}, "finite", id="nan-forecast"),
        pytest.param(lambda d: {"period_end": date(2026, 10, 1)}, "before period_start", id="period-reversed"),
    ],
)
def test_inconsistent_data_is_refused_with_the_reason(change, message):
    data = chart()

    with pytest.raises(ValueError, match=message):
        dataclasses.replace(data, **change(data))


def test_two_dollar_signs_in_a_title_stay_plain_text():
    _figure, ax = drawn(chart(title="Revenue from $2M to $3M"))

    texts = [t for t in ax.get_children() + ax.get_legend().get_texts() if isinstance(t, Text)]
    (title,) = [t for t in texts if t.get_text() == "Revenue from $2M to $3M"]
    (wedge,) = [t for t in texts if t.get_text() == "Forecast range $2,430 – $2,970"]

    # Two "$" in one text would otherwise be typeset as mathtext.
    assert not title.get_parse_math()
    assert not wedge.get_parse_math()


def test_importing_the_module_does_not_import_matplotlib():
    # DAG files may import goalwatch.alerting.render.charts; matplotlib must wait until a chart is drawn.
    code = "import sys, goalwatch.alerting.render.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"
