"""The weekly digest: every goal of one channel in one message, worst first. Pure: builds dicts.

The digest task calls :func:`render_digest` with the verdicts it wants in a channel (it picks
them; this module does not filter by ``Verdict.channel``) and posts the first payload with
``chat.postMessage``, the rest as replies in its thread. Each payload is ``channel``, ``text``
(the notification fallback) and ``blocks``, like the alerts in ``messages``.

Slack's limits are kept: at most 50 blocks per message, 3,000 characters per section text, 150
per header, and a budget for a message's blocks altogether (see ``MAX_MESSAGE_CHARS``). Goals
that do not fit go on in further payloads whose header says "(continued)"; each goal appears once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from goalwatch.alerting.render.messages import HEADLINES, format_value
from goalwatch.core.verdicts import Verdict

__all__ = ["ORDER", "render_digest"]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
# Slack rejects messages whose blocks add up to ~13,200 characters (msg_blocks_too_long) although
# no such limit is documented (slackapi/bolt-js#2509), so a payload stays well under it.
MAX_MESSAGE_CHARS = 12_000
LABEL_CHARS = 100
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


def render_digest(verdicts: Sequence[Verdict], *, channel: str, as_of: date,
                  title: str = "Weekly goals digest") -> list[dict[str, Any]]:
    """One payload, or more when the goals do not fit in one; only goal totals (``segment`` None)
    are listed. A verdict still ``pending`` is a ``ValueError``: the digest reports statuses."""
    goals = sorted((v for v in verdicts if v.segment is None), key=_worst_first)
    sections = [_section(v) for v in goals]
    summary = _summary(goals)

    pages: list[list[dict[str, Any]]] = []
    page = [_header(title, as_of, continued=False),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": summary}]}]
    if not sections:
        page.append(_mrkdwn_section("No goals to report."))
    for section in sections:
        full = len(page) + 1 > MAX_BLOCKS or _chars(page) + _chars([section]) > MAX_MESSAGE_CHARS
        if full and any(block["type"] == "section" for block in page):
            pages.append(page)
            page = [_header(title, as_of, continued=True)]
        page.append(section)
    pages.append(page)

    payloads = []
    first = 0
    for number, blocks in enumerate(pages):
        listed = sum(1 for block in blocks if block["type"] == "section") if goals else 0
        if number == 0:
            text = f"{title} — as of {as_of.isoformat()}: {summary}"
        else:
            text = (f"{title} — as of {as_of.isoformat()} (continued): goals {first + 1}–"
                    f"{first + listed} of {len(goals)}")
        payloads.append({"channel": channel, "text": text, "blocks": blocks})
        first += listed
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
    fmt = lambda x: format_value(x, v.unit, kind=v.kind)  # noqa: E731
    label = v.label if len(v.label) <= LABEL_CHARS else v.label[: LABEL_CHARS - 1] + "…"
    head = (f"{emoji} *{word}*{severity} · *{_escape(label)}* (`{v.goal}`), "
            f"{_escape(v.period_label)}")
    if v.status == "data_issue":
        note = v.note if len(v.note) <= NOTE_CHARS else v.note[: NOTE_CHARS - 1] + "…"
        body = "No verdict until its data passes the checks"
        body += f": {_escape(note)}" if note else "."
    elif v.closed:
        body = (f"Closed at {fmt(v.actual_to_date)} of {fmt(v.target)} "
                f"({_ratio(v.actual_to_date, v.target)} of target)")
    else:
        days = f"{v.days_left} day{'s' if v.days_left != 1 else ''} left"
        body = (f"{v.pace_ratio:.1%} of pace · forecast {fmt(v.forecast)} "
                f"({_ratio(v.forecast, v.target)} of target) · range {fmt(v.forecast_low)} – "
                f"{fmt(v.forecast_high)} · {days}")
    return _mrkdwn_section(f"{head}\n{body}")


def _summary(goals: list[Verdict]) -> str:
    """``3 goals: 1 off track, 1 at risk, 1 on track``, worst first."""
    counts = Counter(v.status for v in goals)
    statuses = dict.fromkeys(status for status, _severity in ORDER)
    parts = [f"{counts[s]} {_COUNT_WORDS[s]}" for s in statuses if counts[s]]
    noun = "goal" if len(goals) == 1 else "goals"
    return (f"{len(goals)} {noun}: " + ", ".join(parts)) if parts else "no goals"


def _header(title: str, as_of: date, *, continued: bool) -> dict[str, Any]:
    tail = f" — as of {as_of.isoformat()}" + (" (continued)" if continued else "")
    room = MAX_HEADER_CHARS - len(":bar_chart: ") - len(tail)
    if len(title) > room:
        title = title[: room - 1] + "…"
    return {"type": "header",
            "text": {"type": "plain_text", "text": f":bar_chart: {title}{tail}", "emoji": True}}


def _mrkdwn_section(text: str) -> dict[str, Any]:
    if len(text) > MAX_SECTION_CHARS:
        text = text[: MAX_SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _chars(blocks: list[dict[str, Any]]) -> int:
    total = 0
    for block in blocks:
        if "text" in block:
            total += len(block["text"]["text"])
        total += sum(len(element["text"]) for element in block.get("elements", ()))
    return total


def _ratio(value: float, target: float) -> str:
    return f"{value / target:.1%}" if target else "n/a"


def _escape(text: str) -> str:
    """Slack's mrkdwn needs ``&``, ``<`` and ``>`` escaped, or a label could read as a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
