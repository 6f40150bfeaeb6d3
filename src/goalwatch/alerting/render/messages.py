"""Slack Block Kit payloads for goal verdicts and data issues. Pure: builds dicts, sends nothing.

The payload is exactly what goes to ``chat.postMessage`` (and to the outbox when Slack is not
configured): ``channel``, ``text`` (the notification fallback) and ``blocks``. Every text that
comes from goals.yml, the warehouse or an error (titles, metric and segment names, example rows,
reasons) is escaped for mrkdwn (``limits.escape``), in the blocks and in the fallback text, so a
value like ``<!channel>`` shows as written and pings no one; headers are plain text.
"""

from __future__ import annotations

from typing import Any

from goalwatch.alerting.render.limits import (
    MAX_FALLBACK_TEXT,
    MAX_LABEL_CHARS,
    context,
    escape,
    header,
    paginate,
    section,
    truncate,
)
from goalwatch.core.findings import QualityReport
from goalwatch.core.verdicts import Verdict

__all__ = [
    "HEADLINES",
    "format_value",
    "render_data_issue",
    "render_delivery_failure",
    "render_group",
    "render_reply",
    "render_unhealthy",
    "render_verdict",
]

HEADLINES = {
    "on_track": (":large_green_circle:", "On track"),
    "at_risk": (":large_yellow_circle:", "At risk"),
    "off_track": (":red_circle:", "Off track"),
    "missed": (":x:", "Missed"),
    "achieved": (":tada:", "Achieved"),
    "data_issue": (":warning:", "Data issue"),
}


def format_value(value: float, unit: str | None, *, kind: str = "total", digits: int | None = None) -> str:
    """``$1,234,567`` for USD, ``1,234 users`` for other units, ``1,234`` without one; a ratio
    keeps two decimals (``$12.34`` ARPU, ``0.18`` conversion), ``digits`` overrides either."""
    if value != value:
        return "n/a"
    if digits is None:
        digits = 2 if kind == "ratio" else 0
    if unit == "USD":
        return f"${value:,.{digits}f}"
    return f"{value:,.{digits}f}" + (f" {unit}" if unit else "")


def _per_day(value: float, v: Verdict, *, signed: bool) -> str:
    """A daily amount in the goal's unit, escaped: ``$1,050``, ``+120 users``; below 10 a day with
    a decimal, so a goal of a few deals a quarter does not read "needs 0 a day"."""
    digits = (2 if v.unit == "USD" else 1) if round(abs(value)) < 10 else 0
    sign = "-" if value < 0 else "+" if signed and value > 0 else ""
    return sign + escape(format_value(abs(value), v.unit, digits=digits))


def _days_left(v: Verdict) -> str:
    return "the last day" if v.days_left == 1 else f"the {v.days_left} days left"


def _falls_short(v: Verdict) -> bool:
    """An open at-risk or off-track goal whose numbers add up (a ratio's daily rate means nothing)."""
    return v.status in ("at_risk", "off_track") and v.kind != "ratio" and not v.closed


def _what_it_takes(v: Verdict) -> str:
    """What reaching the target would take, for an open at-risk or off-track goal that is not a
    ratio: "Needs $1,050 a day for the 46 days left, +27% on the last 4 weeks". Empty when the
    pacing gave no required rate (NaN) or the verdict asks nothing; mrkdwn-escaped."""
    rate = v.required_rate
    if not _falls_short(v) or rate != rate:
        return ""
    level = v.kind == "level"
    if rate <= 0:
        # A level is judged on the close, so being there today is not yet success; a total only
        # falls back through negative days (refunds, churn), and the reader should see that the
        # alert is about that, not hunt for a sentence that is missing.
        if level:
            return f"Already at the target; it has to hold for {_days_left(v)}"
        return "The target is already reached"
    return f"Needs {_per_day(rate, v, signed=level)} a day for {_days_left(v)}{_against(v, rate, level=level)}"


def _against(v: Verdict, rate: float, *, level: bool) -> str:
    """The required rate against the last four weeks' (``core.forecast.RECENT_DAYS``)."""
    recent = v.recent_rate
    if recent != recent or recent == 0:
        return ""
    if recent < 0:  # a percentage of a shrinking rate reads backwards: say the rate itself
        return f", against {_per_day(recent, v, signed=level)} a day over the last 4 weeks"
    change = rate / recent - 1
    if round(change * 100) == 0:
        return ", the same as over the last 4 weeks"
    return f", {change:+,.0%} on the last 4 weeks"


def _asks(v: Verdict) -> str:
    """The alert's line on what it takes: the required rate and, for an off-track goal whose
    deficit is beyond its usual swing, that it is not noise. The segment behind most of the gap
    is not repeated here: the "Behind the gap" line already names it first, with its share."""
    sentences = [_what_it_takes(v)]
    if v.status == "off_track" and _falls_short(v) and v.stands_out:
        sentences.append("Below pace by more than the usual daily swing")
    return ". ".join(s for s in sentences if s) + "." if any(sentences) else ""


AUTO_NOTE = "auto pacing chose "


def _pacing(v: Verdict) -> tuple[str, str]:
    """The context's "seasonal pacing" (with why, from the verdict's note, when ``pacing: auto``
    chose the curve), and the rest of the note."""
    notes = [n for n in v.note.split("; ") if n]
    why = next((n.split(": ", 1)[1] for n in notes if n.startswith(AUTO_NOTE) and ": " in n), None)
    rest = "; ".join(n for n in notes if not n.startswith(AUTO_NOTE))
    if v.pacing == "auto" and v.curve:
        return f"{escape(v.curve)} pacing (auto: {escape(why)})" if why else f"{escape(v.curve)} pacing (auto)", rest
    return f"{escape(v.paced_on)} pacing", rest


def _emoji(v: Verdict) -> tuple[str, str]:
    emoji, word = HEADLINES[v.status]
    if v.status == "off_track" and v.severity == "warning":
        emoji = ":large_orange_circle:"
    return emoji, word


def render_verdict(v: Verdict, *, mention: tuple[str, ...] = (), resolved: bool = False) -> dict[str, Any]:
    """The alert for a verdict; ``mention`` (``<@U123>``, ``<!subteam^S123>``) heads the message,
    which the caller does for critical and missed statuses only. ``resolved`` marks a message
    whose goal is back on track."""
    emoji, word = _emoji(v)
    if resolved:
        emoji, word = ":white_check_mark:", "Resolved"
    fmt = lambda x: escape(format_value(x, v.unit, kind=v.kind))  # noqa: E731 (a unit is free text)
    plain = truncate(v.label, MAX_LABEL_CHARS)
    label = escape(plain)
    pct = f"{v.pace_ratio:.1%}"
    headline = f"{word}: {plain} at {pct} of pace"
    if v.closed:
        headline = f"{word}: {plain} closed at {v.actual_to_date / v.target:.1%} of target"
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
        header(f"{emoji} {headline}"),
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Goal:* `{escape(v.goal)}` — {label}, {escape(v.period_label)} "
                f"({v.period_start:%b %-d} – {v.period_end:%b %-d})\n*Status:* {word.lower()}{severity}",
            },
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{val}"} for k, val in fields]},
    ]
    if asks := _asks(v):
        blocks.append(section(asks))
    if v.explanation:
        behind = ", ".join(f"*{escape(segment)}* {share:.0%}" for segment, share in v.explanation)
        blocks.append(section(f"*Behind the gap:* {behind}"))
    pacing, notes = _pacing(v)
    note = f"goalwatch · as of {v.as_of.isoformat()} · metric `{escape(v.metric)}` · {pacing}"
    if notes:
        note += f" · {escape(notes)}"
    blocks.append(context(note))
    if mention:
        blocks[1]["text"]["text"] += "\n" + " ".join(mention)
    text = (
        " ".join(mention)
        + (" " if mention else "")
        + (
            f"{word}: {label} ({escape(v.period_label)}) is at {pct} of pace — {fmt(v.actual_to_date)} of "
            f"{fmt(v.expected_to_date)} expected by {v.as_of.isoformat()}; forecast {fmt(v.forecast)} "
            f"against a target of {fmt(v.target)}."
        )
    )
    if takes := _what_it_takes(v):
        text += f" {takes}."
    return {"channel": v.channel, "text": truncate(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def render_data_issue(report: QualityReport, *, goals: list[str], channel: str, as_of: str) -> dict[str, Any]:
    """The data owners' alert: which checks the metric's data failed, with example rows, and which
    goals wait for it. Worded as a data problem, never as a goal's status; a day that has not
    arrived by its deadline (and nothing else) is "Data late"."""
    emoji, word = (":hourglass_flowing_sand:", "Data late") if report.late else HEADLINES["data_issue"]
    lines = "\n".join(truncate(f"• {_finding_line(f)}", 600) for f in report.findings[:20])
    affected = ", ".join(f"`{escape(g)}`" for g in goals)
    metric = escape(report.metric)
    if report.late:
        lead = (
            f"The data for `{metric}` has not arrived by its deadline, so no verdict is given for "
            f"{affected} until it does. Their last alerts stand."
        )
    else:
        lead = (
            f"The data for `{metric}` failed {len(report.findings)} check(s), so no verdict is given for "
            f"{affected} until it passes again. Their last alerts stand; this is not a goal's status."
        )
    blocks = [
        header(f"{emoji} {word}: metric {report.metric}"),
        section(f"{lead}\n{lines}"),
        context(f"goalwatch · as of {as_of} · {report.rows:,} rows checked"),
    ]
    titles = "; ".join(dict.fromkeys(escape(f.title or f.expectation) for f in report.findings))
    text = (
        f"{word}: the data for {metric} failed {len(report.findings)} check(s) ({titles}); "
        f"no goal verdict for {affected}."
    )
    return {"channel": channel, "text": truncate(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def _finding_line(f: Any) -> str:
    """One failed check, every part of it from the data or the suite file escaped."""
    where = f" on `{escape(f.column)}`" if f.column else ""
    expectation = escape(f.expectation)
    head = f"*{escape(f.title)}* (`{expectation}`{where})" if f.title else f"`{expectation}`{where}"
    what = ("day" if f.on == "days" else "row") + ("s" if f.unexpected != 1 else "")
    examples = "; ".join(escape(str(e)) for e in f.examples)
    if f.unexpected:
        return f"{head}: {f.unexpected:,} {what}, e.g. {examples}"
    return f"{head}: {examples}" if f.examples else head


def _line(v: Verdict) -> str:
    """One goal in a line or two: status, pace, forecast with range, chance of missing."""
    fmt = lambda x: escape(format_value(x, v.unit, kind=v.kind))  # noqa: E731 (a unit is free text)
    emoji, word = _emoji(v)
    severity = f" ({v.severity})" if v.severity else ""
    head = (
        f"{emoji} *{escape(truncate(v.label, MAX_LABEL_CHARS))}* — {word.lower()}{severity} · {escape(v.period_label)}"
    )
    if v.closed:
        return f"{head}\nclosed at {fmt(v.actual_to_date)} of {fmt(v.target)} ({v.actual_to_date / v.target:.1%})"
    body = (
        f"{fmt(v.actual_to_date)} of {fmt(v.expected_to_date)} expected ({v.pace_ratio:.1%} of pace) · "
        f"target {fmt(v.target)} · forecast {fmt(v.forecast)} ({fmt(v.forecast_low)} – {fmt(v.forecast_high)}) · "
        f"{v.miss_probability:.0%} chance of missing · {v.days_left} days left"
    )
    if asks := _asks(v):
        body += f"\n{asks}"
    if v.explanation:
        body += "\nBehind the gap: " + ", ".join(f"{escape(s)} {share:.0%}" for s, share in v.explanation)
    return f"{head}\n{body}"


def render_group(
    members: list[Verdict], *, mention: tuple[str, ...] = (), resolved: set[str] = frozenset()
) -> list[dict[str, Any]]:
    """Several goals of one channel in one message: a header, then a section per goal. When they do
    not fit Slack's limits, further payloads continue them (posted in the message's thread).
    Each payload lists its goals in ``_goals`` for the caller, which removes it before sending."""
    channel = members[0].channel
    head = [header(f":rotating_light: {len(members)} goals need attention")]
    if mention:
        head.append(section(" ".join(mention)))
    sections = []
    for v in members:
        line = _line(v)
        if v.goal in resolved:
            line = ":white_check_mark: *Resolved* · " + line
        sections.append((v.goal, section(line)))
    pages = paginate(
        sections, block=lambda item: item[1], head=head, continued=[_continued(len(members), len(members))]
    )
    counts = ", ".join(
        f"{sum(1 for v in members if v.status == st)} {st.replace('_', ' ')}"
        for st in dict.fromkeys(v.status for v in members)
    )
    payloads = []
    for n, page in enumerate(pages):
        blocks = (head if n == 0 else [_continued(n + 1, len(pages))]) + [b for _, b in page]
        text = (
            " ".join(mention) + " " if mention and n == 0 else ""
        ) + f"{len(members)} goals need attention: {counts}"
        payloads.append({"channel": channel, "text": text, "blocks": blocks, "_goals": [g for g, _ in page]})
    return payloads


def _continued(part: int, parts: int) -> dict[str, Any]:
    return context(f"(continued, part {part} of {parts})")


REPLY_LEAD = {
    "transition": "Status changed",
    "resolved": ":white_check_mark: Resolved",
    "final": ":checkered_flag: Final verdict",
    "reminder": ":bell: Still needs attention",
}


def render_reply(
    items: list[tuple[Verdict, str]], *, channel: str, mention: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Thread replies for the goals of one message: a section per goal, split at Slack's limits;
    ``mention`` heads the first."""
    sections = [section(f"*{REPLY_LEAD[kind]}* · {_line(v)}") for v, kind in items]
    if mention:
        sections.insert(0, section(" ".join(mention)))
    out = []
    for blocks in paginate(sections, block=lambda b: b, head=[], continued=[]):
        text = "; ".join(
            f"{REPLY_LEAD[kind].split(' ', 1)[-1]}: {escape(v.label)} {v.status.replace('_', ' ')}" for v, kind in items
        )
        if mention and not out:
            text = " ".join(mention) + " " + text
        out.append({"channel": channel, "text": truncate(text, MAX_FALLBACK_TEXT), "blocks": blocks})
    return out


def render_unhealthy(*, dag_id: str, task_id: str, reason: str, channel: str, as_of: str, tries: int) -> dict[str, Any]:
    """goalwatch itself cannot see the data: not a goal verdict, a message to its keepers."""
    failed = f"failed after {tries} attempt(s)" if tries else "is not running"
    text = (
        f":rotating_light: goalwatch is unhealthy: `{escape(dag_id)}.{escape(task_id)}` {failed}, so goals get no "
        f"verdict until it runs again.\n*Why:* {escape(reason)}"
    )
    blocks = [
        header(":rotating_light: Monitor unhealthy"),
        section(text),
        context(f"goalwatch · as of {as_of}"),
    ]
    return {
        "channel": channel,
        "text": truncate(
            f"goalwatch is unhealthy: {escape(dag_id)}.{escape(task_id)} failed ({escape(reason)})", MAX_FALLBACK_TEXT
        ),
        "blocks": blocks,
    }


def render_delivery_failure(
    *, channel: str, failed_in: str, code: str, advice: str, goals: list[str], keys: list[str], as_of: str
) -> dict[str, Any]:
    """Slack refused goalwatch's messages to ``failed_in`` for good: said once, to the default channel."""
    what = ", ".join(f"`{escape(g)}`" for g in goals) if goals else ", ".join(f"`{escape(k)}`" for k in keys)
    text = (
        f":warning: goalwatch could not post to {escape(failed_in)}: Slack said `{escape(code)}`.\n"
        f"*Not delivered:* {what}\n*What to do:* {escape(advice)}. Each new alert is still tried; "
        "until one gets through, its refusals go to the task log only."
    )
    return {
        "channel": channel,
        "text": truncate(
            f"goalwatch could not post to {escape(failed_in)}: Slack said {escape(code)}", MAX_FALLBACK_TEXT
        ),
        "blocks": [
            header(":warning: Alerts not delivered"),
            section(text),
            context(f"goalwatch · as of {as_of}"),
        ],
    }
