"""The pace chart of one goal: cumulative actual against the pace, the target and the forecast.

Pure: matplotlib only, imported inside the functions (a DAG file that imports this module stays
light), and no pyplot, so nothing touches matplotlib's global figure manager and two threads may
draw at once. The alert and digest code calls :func:`render_chart` for the PNG it uploads next to
a message; :func:`draw_chart` hands back the same figure undrawn, for tests and notebooks.

The same :class:`ChartData` gives the same PNG bytes (fixed dpi, no timestamp or software tag in
the file), so a rerun of a past date uploads an identical image.
"""

from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING, Any

from goalwatch.alerting.render.messages import format_value
from goalwatch.core.chart import ChartData

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ChartData", "draw_chart", "render_chart"]

DPI = 100
MIN_WIDTH_PX = 320
MIN_HEIGHT_PX = 200

_ACTUAL = "#1f77b4"
_PACE = "#7f7f7f"
_TARGET = "#2b2b2b"
_FORECAST = "#ff7f0e"
_WEDGE_ALPHA = 0.2


def render_chart(data: ChartData, *, width_px: int = 960, height_px: int = 480) -> bytes:
    """The chart as PNG bytes of exactly ``width_px`` × ``height_px``; same data, same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = draw_chart(data, width_px=width_px, height_px=height_px)
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # No "Software" tag (it carries the matplotlib version) and Agg writes no timestamp for PNG.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def draw_chart(data: ChartData, *, width_px: int = 960, height_px: int = 480) -> Figure:
    """The figure :func:`render_chart` saves: one axes, not yet drawn."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    if width_px < MIN_WIDTH_PX or height_px < MIN_HEIGHT_PX:
        raise ValueError(
            f"chart {data.title!r}: {width_px}×{height_px} px is too small to read; "
            f"at least {MIN_WIDTH_PX}×{MIN_HEIGHT_PX}"
        )
    fmt = lambda value: format_value(value, data.unit, kind=data.kind)  # noqa: E731
    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    ax = figure.add_subplot()

    xs = mdates.date2num(list(data.days))
    known = [i for i, v in enumerate(data.actual) if v is not None]
    x_now = xs[known[-1]]
    y_now = data.last_actual
    ax.plot(xs, data.expected, linestyle="--", linewidth=1.5, color=_PACE, label="Pace (expected to date)")
    ax.plot(
        xs[: len(known)],
        [data.actual[i] for i in known],
        linewidth=2.4,
        color=_ACTUAL,
        label="Actual to date",
        solid_capstyle="round",
        zorder=4,
    )
    ax.axhline(data.target, linewidth=1.2, color=_TARGET, label=f"Target {fmt(data.target)}")
    if not data.closed:
        x_end = xs[-1]
        ax.fill_between(
            [x_now, x_end],
            [y_now, data.forecast_low],
            [y_now, data.forecast_high],
            color=_FORECAST,
            alpha=_WEDGE_ALPHA,
            linewidth=0,
            label=f"Forecast range {fmt(data.forecast_low)} – {fmt(data.forecast_high)}",
        )
        ax.plot(
            [x_now, x_end],
            [y_now, data.forecast],
            linestyle=":",
            linewidth=2,
            color=_FORECAST,
            label=f"Forecast {fmt(data.forecast)}",
        )
    ax.axvline(x_now, linestyle=":", linewidth=1, color=_PACE)
    ax.plot([x_now], [y_now], marker="o", markersize=6, color=_ACTUAL, zorder=4)
    # At the foot of the as-of line (the legend holds the top left corner), on the side with room.
    right = x_now - xs[0] <= (xs[-1] - xs[0]) / 2
    ax.annotate(
        f"as of {_day(data.as_of)}",
        xy=(x_now, 0),
        xycoords=("data", "axes fraction"),
        xytext=(4 if right else -4, 4),
        textcoords="offset points",
        ha="left" if right else "right",
        va="bottom",
        fontsize=9,
        color="#555555",
    )

    _axes(ax, data, xs)
    return figure


def _axes(ax: Any, data: ChartData, xs: Any) -> None:
    """Limits, ticks, title, labels, grid and legend of the chart's axes."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    values = (
        [v for v in data.actual if v is not None]
        + list(data.expected)
        + [data.target, data.forecast_low, data.forecast_high]
    )
    low, high = min(0.0, *values), max(0.0, *values)
    pad = (high - low) * 0.08 or 1.0
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax.set_xlim(xs[0] - 0.5, xs[-1] + 0.5)

    # Tick labels carry dollars but not other units: "1,200 users" on every tick is noise, so the
    # unit goes in the axis label instead.
    tick_unit = data.unit if data.unit == "USD" else None
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=data.kind != "ratio"))
    # One "$" per tick label, so never mathtext.
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: format_value(y, tick_unit, kind=data.kind)))
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _day(mdates.num2date(x).date())))

    # parse_math=False: two "$" in a title or label would otherwise turn it into mathtext.
    ax.set_title(data.title, loc="left", fontsize=13, fontweight="bold", parse_math=False)
    span = f"{_day(data.period_start)} – {_day(data.period_end)}, {data.period_end.year}"
    ax.set_xlabel(f"Day of period ({span})")
    ax.set_ylabel(f"{data.unit} to date" if data.unit else "To date", parse_math=False)
    ax.grid(True, color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    legend = ax.legend(loc="upper left", fontsize=9, frameon=True, framealpha=0.9)
    for text in legend.get_texts():
        text.set_parse_math(False)


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"
