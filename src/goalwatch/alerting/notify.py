"""After an evaluation: plan what is new in the ledger, then send every pending Slack call.

Called by the evaluate DAG's ``decide`` task (through ``runtime.tasks``) and by ``goalwatch replay
--notify``, so a replayed day speaks exactly as a run would. The charts that go in a message's
thread are drawn by the sender once the posts before them are sent (``alerting.uploads``), from
the stored data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from goalwatch.alerting.delivery import Delivery
from goalwatch.alerting.heal import heal
from goalwatch.alerting.ledger import Ledger
from goalwatch.alerting.notices import plan_failures
from goalwatch.alerting.plan import plan
from goalwatch.alerting.send import deliver
from goalwatch.alerting.uploads import Render, later
from goalwatch.config import Config
from goalwatch.core.findings import QualityReport
from goalwatch.core.verdicts import Verdict
from goalwatch.errors import DeliveryError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["chart_maker", "notify", "send_pending"]

log = logging.getLogger(__name__)


def chart_maker(config: Config, frames: Callable[[], Mapping[str, pd.DataFrame]]) -> Callable[[Verdict], bytes | None]:
    """PNG bytes of a verdict's chart (None for a ratio goal); ``frames()`` is read once, on the
    first chart asked for, so an evaluation that posts nothing new reads nothing."""
    from goalwatch.alerting.render.charts import render_chart
    from goalwatch.pipeline import chart_data

    read = cache(frames)

    def chart(verdict: Verdict) -> bytes | None:
        data = chart_data(config, read(), verdict)
        return None if data is None else render_chart(data)

    return chart


def send_pending(
    ledger: Ledger,
    delivery: Delivery,
    *,
    config: Config | None = None,
    owner: str | None = None,
    render: Render | None = None,
) -> dict[str, Any]:
    """Send every pending call, heal the duplicates late writes made, and say once (with ``config``,
    to its default channel) what Slack refused for good. A DeliveryError, after recording
    everything, if a call failed for a passing reason (so Airflow retries the task); a permanent
    refusal is reported, not raised, so it does not fail every later run. ``owner`` and ``render``:
    see ``deliver``."""
    outcome = deliver(ledger, delivery, owner=owner, render=render)
    outcome.deleted += heal(ledger, delivery)
    if outcome.refused and config is not None:
        day = max(r.as_of for r in outcome.refused)
        keys = plan_failures(ledger, config, outcome.refused, day=day)
        if keys:
            told = deliver(ledger, delivery, keys=set(keys), owner=owner)
            outcome.sent += told.sent
            outcome.waiting += told.waiting
            outcome.failed += told.failed  # a notice that could not go yet fails the task, to be retried
            outcome.refused += told.refused
    log.info(
        "Sent %d Slack call(s); %d waiting, %d refused for good",
        len(outcome.sent),
        len(outcome.waiting),
        len(outcome.refused),
    )
    if outcome.failed:
        raise DeliveryError("; ".join(outcome.failed) + " (kept pending for the next attempt)")
    return outcome.as_dict()


def notify(
    verdicts: list[Verdict],
    reports: list[QualityReport],
    *,
    config: Config,
    ledger: Ledger,
    delivery: Delivery,
    chart: Callable[[Verdict], bytes | None] | None,
    run_id: str | None,
    moment: datetime | None = None,
) -> dict[str, Any]:
    """Plan what is new, then send every pending call (this run's and any a failed run left behind).
    The posts go first: each chart is drawn with ``chart`` when its upload's turn comes
    (``alerting.uploads``). A run that sent everything records its heartbeat at ``moment`` for
    the watchdog."""
    planned = plan(verdicts, reports, config=config, ledger=ledger, run_id=run_id, chart=later if chart else None)
    # Every try of the run's notify task is one sender: a retry takes back what a dead try held.
    owner = f"notify:{run_id}" if run_id else None
    outcome = send_pending(ledger, delivery, config=config, owner=owner, render=chart)
    if moment is not None:
        ledger.beat("evaluate", moment=moment, run_id=run_id)
    return {"planned": planned, **outcome}
