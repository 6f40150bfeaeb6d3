"""The weekly digest: every goal of one channel in one message, worst first. Pure: builds dicts.

The digest task calls :func:`render_digest` with the verdicts it wants in a channel (it picks
them; this module does not filter by ``Verdict.channel``) and posts the first payload with
``chat.postMessage``, the rest as replies in its thread. Each payload is ``channel``, ``text``
(the notification fallback) and ``blocks``, like the alerts in ``messages``.

Slack's limits are kept (``limits``): blocks per message, characters per section and header, and
the budget for a message's blocks altogether. Goals that do not fit go on in further payloads
whose header says "(continued)"; each goal appears once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from goalwatch.alerting.render.limits import (
    MAX_HEADER_TEXT,
    MAX_LABEL_CHARS,
    context,
    escape,
    header,
    paginate,
    section,
    truncate,
)
from goalwatch.alerting.render.messages import HEADLINES, format_value
from goalwatch.core.verdicts import NO_OUTCOME, Verdict

__all__ = ["ORDER", "render_digest"]

NOTE_CHARS = 300

# Worst first: (status, severity) pairs; off_track without a severity counts as critical.
ORDER: tuple[tuple[str, str | None], ...] = (
    ("missed", None),
    ("off_track", "critical"),
    ("off_track", "warning"),
    ("at_risk", None),
    ("data_issue", None),
    ("on_track", None),
    ("achieved", None),
)
_COUNT_WORDS = {status: word.lower() for status, (_emoji, word) in HEADLINES.items()}


def render_digest(
    verdicts: Sequence[Verdict], *, channel: str, as_of: date, title: str = "Weekly goals digest"
) -> list[dict[str, Any]]:
    """One payload, or more when the goals do not fit in one; only goal totals (``segment`` None)
    are listed. A verdict still ``pending`` is a ``ValueError``: the digest reports statuses."""
    goals = sorted((v for v in verdicts if v.segment is None), key=_worst_first)
    summary = _summary(goals)
    head = [_header(title, as_of, continued=False), context(summary)]
    continued = [_header(title, as_of, continued=True)]
    listed = [(v, _section(v)) for v in goals]
    pages = paginate(listed, block=lambda item: item[1], head=head, continued=continued)
    payloads = []
    first = 0
    for number, page in enumerate(pages):
        blocks = [*(head if number == 0 else continued), *(block for _, block in page)]
        if not goals:
            blocks.append(section("No goals to report."))
        if number == 0:
            text = f"{title} — as of {as_of.isoformat()}: {summary}"
        else:
            text = (
                f"{title} — as of {as_of.isoformat()} (continued): goals {first + 1}–"
                f"{first + len(page)} of {len(goals)}"
            )
        payloads.append({"channel": channel, "text": text, "blocks": blocks})
        first += len(page)
    return payloads


def _worst_first(v: Verdict) -> tuple[int, float, str, date]:
    if v.status == "pending":
        raise ValueError(f"goal {v.key!r} has no status yet (pending); a digest lists statuses")
    severity = None
    if v.status == "off_track":
        severity = "warning" if v.severity == "warning" else "critical"
    ratio = v.forecast_ratio
    # Within a status the furthest from its target comes first; the goal id breaks ties.
    nearness = ratio if ratio == ratio else float("inf")
    return ORDER.index((v.status, severity)), nearness, v.goal, v.period_start


def _section(v: Verdict) -> dict[str, Any]:
    emoji, word = HEADLINES[v.status]
    if v.status == "off_track" and v.severity == "warning":
        emoji = ":large_orange_circle:"
    severity = f" ({v.severity})" if v.status == "off_track" and v.severity else ""
    fmt = lambda x: escape(format_value(x, v.unit, kind=v.kind))  # noqa: E731 (a unit is free text)
    head = f"{emoji} *{word}*{severity} · *{escape(truncate(v.label, MAX_LABEL_CHARS))}* (`{v.goal}`), {escape(v.period_label)}"
    if v.status == "data_issue" and v.note.startswith(NO_OUTCOME):
        # The data passed its checks; what the goal needs is not there (a baseline, any data).
        body = f"No verdict: {escape(truncate(v.note, NOTE_CHARS))}"
    elif v.status == "data_issue":
        body = "No verdict until its data passes the checks"
        body += f": {escape(truncate(v.note, NOTE_CHARS))}" if v.note else "."
    elif v.closed:
        body = f"Closed at {fmt(v.actual_to_date)} of {fmt(v.target)} ({_ratio(v.actual_to_date, v.target)} of target)"
    else:
        days = f"{v.days_left} day{'s' if v.days_left != 1 else ''} left"
        body = (
            f"{v.pace_ratio:.1%} of pace · forecast {fmt(v.forecast)} "
            f"({_ratio(v.forecast, v.target)} of target) · range {fmt(v.forecast_low)} – "
            f"{fmt(v.forecast_high)} · {days}"
        )
    return section(f"{head}\n{body}")


def _summary(goals: list[Verdict]) -> str:
    """``3 goals: 1 off track, 1 at risk, 1 on track``, worst first."""
    counts = Counter(v.status for v in goals)
    statuses = dict.fromkeys(status for status, _severity in ORDER)
    parts = [f"{counts[s]} {_COUNT_WORDS[s]}" for s in statuses if counts[s]]
    noun = "goal" if len(goals) == 1 else "goals"
    return (f"{len(goals)} {noun}: " + ", ".join(parts)) if parts else "no goals"


def _header(title: str, as_of: date, *, continued: bool) -> dict[str, Any]:
    tail = f" — as of {as_of.isoformat()}" + (" (continued)" if continued else "")
    room = MAX_HEADER_TEXT - len(":bar_chart: ") - len(tail)
    return header(f":bar_chart: {truncate(title, room)}{tail}")


def _ratio(value: float, target: float) -> str:
    return f"{value / target:.1%}" if target else "n/a"
