"""The pure core: calendar periods, pacing, forecasts, statuses and the values that flow between steps.

- ``periods``: calendar periods (fiscal quarters, week starts) and the run's as-of day;
- ``forecast``: pacing curves, projections and calibrated prediction intervals for many series;
- ``pacing``: goals' daily matrices, expected-to-date and the in-period status history, batched;
- ``status``: the status levels with hysteresis;
- ``verdicts``, ``findings``, ``chart``: the frozen values a verdict, a data check's findings and a
  goal's chart are.

Pure: numpy, scipy and pandas only; no Airflow, Slack, GX, SQLAlchemy, matplotlib, files or config
(``lint-imports`` holds it). Imports nothing of goalwatch but ``errors``; every other package may
import it.
"""

__all__ = [
    "chart",
    "findings",
    "forecast",
    "pacing",
    "periods",
    "status",
    "verdicts",
]  # its modules: import the one you need
