"""Slack's limits on a message, in one place, and the blocks every renderer builds within them.

From Slack's Block Kit reference: at most 50 blocks a message, 3,000 characters a section's text,
150 a header's plain text, 10 fields a section and 2,000 characters each, 10 elements a context.
Slack also refuses a message whose blocks add up to about 13,000 characters (``msg_blocks_too_long``;
not in the reference, slackapi/bolt-js#2509), so a message stays under :data:`MAX_MESSAGE_CHARS`.
``messages`` and ``digest`` build their blocks with :func:`section`, :func:`header` and
:func:`context`, which cut text to fit, and split long lists with :func:`paginate`.

Text from the data (a label, a segment, a finding's example) goes through :func:`escape` before
it enters mrkdwn, so ``<!channel>`` in a warehouse value cannot ping a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = [
    "MAX_BLOCKS",
    "MAX_CONTEXT_TEXT",
    "MAX_FALLBACK_TEXT",
    "MAX_HEADER_TEXT",
    "MAX_LABEL_CHARS",
    "MAX_MESSAGE_CHARS",
    "MAX_SECTION_TEXT",
    "block_chars",
    "context",
    "escape",
    "header",
    "paginate",
    "section",
    "truncate",
]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 2000  # per element
MAX_FALLBACK_TEXT = 3000  # the notification text: Slack takes more, a notification shows far less
MAX_MESSAGE_CHARS = 12_000
MAX_LABEL_CHARS = 100  # ours, not Slack's: a goal's title in a headline or a digest line

T = TypeVar("T")
Block = dict[str, Any]


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Slack's mrkdwn needs ``&``, ``<`` and ``>`` escaped, or a value could read as a link or a ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER_TEXT), "emoji": True}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, MAX_CONTEXT_TEXT)}]}


def block_chars(blocks: Sequence[Block]) -> int:
    """The characters of text in ``blocks``: what Slack's size limit counts."""
    total = 0
    for block in blocks:
        if "text" in block:
            total += len(block["text"]["text"])
        total += sum(len(f["text"]) for f in block.get("fields", ()))
        total += sum(len(e.get("text", "")) for e in block.get("elements", ()))
    return total


def paginate(
    items: Sequence[T], *, block: Callable[[T], Block], head: Sequence[Block], continued: Sequence[Block]
) -> list[list[T]]:
    """``items`` split into pages: the first under ``head``, each later one under ``continued``
    (blocks as large as the ones that will head them), each page within :data:`MAX_BLOCKS` and
    :data:`MAX_MESSAGE_CHARS`. Every page but an empty list's holds at least one item."""
    pages: list[list[T]] = [[]]
    used_blocks, used_chars = len(head), block_chars(head)
    for item in items:
        size = block_chars([block(item)])
        if pages[-1] and (used_blocks + 1 > MAX_BLOCKS or used_chars + size > MAX_MESSAGE_CHARS):
            pages.append([])
            used_blocks, used_chars = len(continued), block_chars(continued)
        pages[-1].append(item)
        used_blocks, used_chars = used_blocks + 1, used_chars + size
    return pages
