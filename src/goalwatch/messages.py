"""Slack Block Kit payloads for goal verdicts and data issues. Pure: builds dicts, sends nothing.

The payload is exactly what goes to ``chat.postMessage`` (and to the outbox when Slack is not
configured): ``channel``, ``text`` (the notification fallback) and ``blocks``.
"""

from __future__ import annotations

from typing import Any

from goalwatch.verdicts import Verdict
from goalwatch.validation import QualityReport

__all__ = ["HEADLINES", "format_value", "render_data_issue", "render_verdict"]

HEADLINES = {
    "on_track": (":large_green_circle:", "On track"),
    "at_risk": (":large_yellow_circle:", "At risk"),
    "off_track": (":red_circle:", "Off track"),
    "missed": (":x:", "Missed"),
    "achieved": (":tada:", "Achieved"),
    "data_issue": (":warning:", "Data issue"),
}


def format_value(value: float, unit: str | None, *, kind: str = "total") -> str:
    """``$1,234,567`` for USD, ``1,234 users`` for other units, ``1,234`` without one; a ratio
    keeps two decimals (``$12.34`` ARPU, ``0.18`` conversion)."""
    if value != value:
        return "n/a"
    digits = 2 if kind == "ratio" else 0
    if unit == "USD":
        return f"${value:,.{digits}f}"
    return f"{value:,.{digits}f}" + (f" {unit}" if unit else "")


def render_verdict(v: Verdict, *, mention: tuple[str, ...] = ()) -> dict[str, Any]:
    """The alert for a verdict; ``mention`` (``<@U123>``, ``<!subteam^S123>``) heads the message,
    which the caller does for critical and missed statuses only."""
    emoji, word = HEADLINES[v.status]
    if v.status == "off_track" and v.severity == "warning":
        emoji = ":large_orange_circle:"
    fmt = lambda x: format_value(x, v.unit, kind=v.kind)  # noqa: E731
    label = v.label if len(v.label) <= 100 else v.label[:99] + "…"
    pct = f"{v.pace_ratio:.1%}"
    headline = f"{word}: {label} at {pct} of pace"
    if v.closed:
        headline = f"{word}: {label} closed at {v.actual_to_date / v.target:.1%} of target"
    fields = [
        ("Actual to date", fmt(v.actual_to_date)),
        ("Expected to date", fmt(v.expected_to_date)),
        ("Target", fmt(v.target)),
        ("% of pace", pct),
        ("Days left", f"{v.days_left} of {v.days_total}"),
        ("Forecast", f"{fmt(v.forecast)} ({v.forecast_ratio:.1%} of target)"),
    ]
    if not v.closed:
        fields += [
            (f"Forecast range ({v.interval:.0%})", f"{fmt(v.forecast_low)} – {fmt(v.forecast_high)}"),
            ("Chance of missing", f"{v.miss_probability:.0%}"),
        ]
    severity = f" ({v.severity})" if v.severity else ""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{emoji} {headline}"[:150], "emoji": True}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Goal:* `{v.goal}` — {label}, {v.period_label} "
                f"({v.period_start:%b %-d} – {v.period_end:%b %-d})\n*Status:* {word.lower()}{severity}",
            },
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{val}"} for k, val in fields]},
    ]
    if v.explanation:
        behind = ", ".join(f"*{segment}* {share:.0%}" for segment, share in v.explanation)
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                       "text": f"*Behind the gap:* {behind}"[:3000]}})
    context = f"goalwatch · as of {v.as_of.isoformat()} · metric `{v.metric}` · {v.pacing} pacing"
    if v.note:
        context += f" · {v.note}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context[:2000]}]})
    if mention:
        blocks[1]["text"]["text"] += "\n" + " ".join(mention)
    text = " ".join(mention) + (" " if mention else "") + (
        f"{word}: {label} ({v.period_label}) is at {pct} of pace — {fmt(v.actual_to_date)} of "
        f"{fmt(v.expected_to_date)} expected by {v.as_of.isoformat()}; forecast {fmt(v.forecast)} "
        f"against a target of {fmt(v.target)}."
    )
    return {"channel": v.channel, "text": text, "blocks": blocks}


def render_data_issue(report: QualityReport, *, goals: list[str], channel: str, as_of: str) -> dict[str, Any]:
    emoji, word = HEADLINES["data_issue"]
    lines = "\n".join(f"• {f.describe()}"[:500] for f in report.findings[:20])
    affected = ", ".join(f"`{g}`" for g in goals)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{emoji} {word}: metric {report.metric}"[:150], "emoji": True}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"The data for `{report.metric}` failed its checks, so no verdict is given for "
                    f"{affected} until it passes again.\n{lines}"
                )[:3000],
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"goalwatch · as of {as_of} · {report.rows} rows checked"}]},
    ]
    text = f"{word}: the data for {report.metric} failed {len(report.findings)} check(s); no goal verdict for {affected}."
    return {"channel": channel, "text": text, "blocks": blocks}
