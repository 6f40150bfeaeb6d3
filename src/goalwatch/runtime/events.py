"""What an asset event announces: which metric has new data, and the day or instant it is as of.

Three shapes reach the evaluate DAG, all read by :func:`announcement`:

- the ingest DAG's ``publish``, on the metric's asset (``goalwatch://metrics/<metric>``):
  ``extra = {"metric", "as_of", "moment", "rows"}``;
- a REST event (``POST /api/v2/assets/events``, or ``goalwatch announce``) on the metric's asset:
  ``extra = {"as_of": "YYYY-MM-DD"}`` or ``{"moment": "<ISO 8601 instant>"}``, which Airflow
  stamps with ``"from_rest_api": true``;
- a Redis message, on the messages asset (``goalwatch://messages/``), whose watcher puts what the
  trigger yielded under ``payload``: ``extra = {"from_trigger": true, "payload": {"channel": ...,
  "data": "<the published text>"}}``, the text being JSON ``{"metric": ..., "as_of": ...}`` or
  ``{"metric": ..., "moment": ...}``.

The evaluate DAG's last task (``sweep``) nudges the messages asset when Airflow's scheduler left
events without a run: ``extra = {"stranded": [event ids]}`` (:func:`stranded`). The run the
nudge starts carries those events themselves (the scheduler gives a new run every event since
the last one), so the nudge announces nothing of its own.

A bad event (not JSON, not an object, an unknown metric, a day that is not a date) is a
:class:`BadEvent` whose message names the asset (or channel), the key and what to send instead.
Pure: no Airflow import, so the CLI and the tests read events the way the DAG does.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from goalwatch.errors import GoalwatchError

__all__ = ["MESSAGES_URI", "METRIC_URI", "Announcement", "BadEvent", "announcement", "message_text", "stranded"]

METRIC_URI = "goalwatch://metrics/"
MESSAGES_URI = "goalwatch://messages/"  # as Airflow normalises it
EXAMPLE = '{"metric": "new_users", "as_of": "2026-11-15"}'
SHOWN = 80  # characters of a bad message quoted in its error


class BadEvent(GoalwatchError):
    """An asset event or message goalwatch cannot act on; the run gives it no verdict."""


@dataclass(frozen=True)
class Announcement:
    """New data for ``metric``, as of ``as_of`` (a day) or ``moment`` (an instant), or neither
    (then the run's own time says which day)."""

    metric: str
    as_of: date | None = None
    moment: datetime | None = None
    via: str = "event"


def announcement(uri: str, extra: Mapping[str, Any] | None, metrics: Collection[str] | None) -> Announcement:
    """The announcement an event on the asset ``uri`` carries; BadEvent if it carries none. A
    metric not in ``metrics`` is unknown (``None``: any metric is taken)."""
    extra = dict(extra or {})
    if uri.rstrip("/") == MESSAGES_URI.rstrip("/") or extra.get("from_trigger"):
        payload = extra.get("payload") if isinstance(extra.get("payload"), Mapping) else {}
        where = f"Redis message on channel {payload.get('channel') or '?'}"
        body = _json_object(payload.get("data"), where)
        metric = body.get("metric")
        if not isinstance(metric, str) or not metric:
            raise BadEvent(f"{where}: no 'metric'; publish a JSON object such as {EXAMPLE}")
        return _read(body, metric=metric, where=where, metrics=metrics, via="redis")
    if not uri.startswith(METRIC_URI):
        raise BadEvent(f"asset event on {uri}: not a goalwatch metric asset ({METRIC_URI}<metric>)")
    metric = uri.removeprefix(METRIC_URI)
    where = f"asset event on {uri}"
    named = extra.get("metric")
    if named is not None and named != metric:
        raise BadEvent(f"{where}: extra.metric is {named!r}, but the asset is {metric!r}'s; post it on {named!r}'s")
    via = "rest" if extra.get("from_rest_api") else "event"
    return _read(extra, metric=metric, where=where, metrics=metrics, via=via)


def stranded(extra: Mapping[str, Any] | None) -> list[int] | None:
    """The ids of the events a sweep's nudge is about; None for any other event."""
    ids = (extra or {}).get("stranded")
    return [int(i) for i in ids if isinstance(i, int)] if isinstance(ids, list) else None


def message_text(metric: str, *, as_of: date | None = None, moment: datetime | None = None) -> str:
    """The JSON text of a message announcing ``metric`` (what ``redis-cli PUBLISH`` would send)."""
    body: dict[str, str] = {"metric": metric}
    if moment is not None:
        body["moment"] = moment.isoformat()
    elif as_of is not None:
        body["as_of"] = as_of.isoformat()
    return json.dumps(body)


def _json_object(data: Any, where: str) -> dict[str, Any]:
    try:
        body = json.loads(data) if isinstance(data, str | bytes) else data
    except ValueError:
        raise BadEvent(f"{where}: not JSON ({_shown(data)}); publish a JSON object such as {EXAMPLE}") from None
    if not isinstance(body, dict):
        raise BadEvent(f"{where}: not a JSON object ({_shown(data)}); publish one such as {EXAMPLE}")
    return body


def _read(
    body: Mapping[str, Any], *, metric: str, where: str, metrics: Collection[str] | None, via: str
) -> Announcement:
    if metrics is not None and metric not in metrics:
        known = sorted(metrics)
        listed = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
        raise BadEvent(f"{where}: unknown metric {metric!r} (goals.yml has {listed})")
    moment = as_of = None
    if body.get("moment"):
        moment = _parse(datetime.fromisoformat, body["moment"], where, "moment", "an ISO 8601 instant")
        if moment.tzinfo is None:
            raise BadEvent(f"{where}: moment {body['moment']!r} has no UTC offset; add one, e.g. +00:00")
    elif body.get("as_of"):
        as_of = _parse(date.fromisoformat, body["as_of"], where, "as_of", "a date (YYYY-MM-DD)")
    return Announcement(metric=metric, as_of=as_of, moment=moment, via=via)


def _parse(parse: Any, value: Any, where: str, key: str, what: str) -> Any:
    try:
        return parse(str(value))
    except ValueError:
        raise BadEvent(f"{where}: {key} {_shown(value)} is not {what}") from None


def _shown(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "…")
