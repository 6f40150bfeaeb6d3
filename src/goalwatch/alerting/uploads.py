"""A message's chart, shared in its thread: drawn when planned, or after the posts.

An evaluation posts first and draws after: its planner is given ``later`` for a chart, and the
upload intent holds the verdict (JSON) instead of the PNG; its sender draws it with ``render``
once the posts before it are sent, so an alert never waits for matplotlib. A sender with no
``render`` (the watchdog's, a digest's, a failure callback's) leaves such an upload pending for the next evaluation's.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from typing import Any

from goalwatch.core.verdicts import Verdict

__all__ = ["LATER", "Later", "Render", "chart_bytes", "chart_intent", "later"]

log = logging.getLogger(__name__)


class Later:
    """The chart is drawn by the sender, after the posts planned before it."""


LATER = Later()
Render = Callable[[Verdict], "bytes | None"]


def later(verdict: Verdict) -> Later:
    return LATER


def chart_intent(conn: Any, ledger: Any, message_id: int, v: Verdict, png: bytes | Later | None) -> bool:
    """Plan the upload of ``v``'s chart in its message's thread; whether one was planned."""
    if not png:
        return False
    title = f"{v.label} — {v.period_label}, as of {v.as_of.isoformat()}"
    payload: dict[str, Any] = {"filename": f"{v.goal}-{v.as_of.isoformat()}.png", "title": title}
    if isinstance(png, Later):
        payload["verdict"] = v.to_dict()
    else:
        payload["content"] = base64.b64encode(png).decode()
    key = f"{v.goal}.{v.period_start.isoformat()}.chart.{v.as_of.isoformat()}"
    ledger.add_intent(conn, kind="upload", message_id=message_id, key=key, payload=payload, as_of=v.as_of)
    return True


def chart_bytes(payload: Mapping[str, Any], render: Render | None) -> bytes | None:
    """The PNG to upload: as planned, or drawn now; None when it must wait for a sender that can
    draw it, ``b""`` when there is nothing to draw or it cannot be drawn (a goal renamed since,
    a verdict stored by another version): that chart is lost, logged, and nothing else waits."""
    if "content" in payload:
        return base64.b64decode(payload["content"])
    if render is None:
        return None
    try:
        return render(Verdict.from_dict(payload["verdict"])) or b""
    except Exception:
        log.exception("The chart %s cannot be drawn; the alert stands without it", payload.get("filename"))
        return b""
