"""How a problem in goals.yml reads: ``FILE:LINE: key: message``.

Used by ``config.load_config``: the line of every key is read from the YAML document's nodes, a
pydantic error location becomes the key path as the user wrote it, and pydantic's wording
becomes plain English.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["key_lines", "line_of", "message", "problem"]


def message(err: dict[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "literal_error":
        return f"{err['input']!r} is not one of {ctx.get('expected')}"
    if err["type"] == "string_pattern_mismatch":
        return f"{err['input']!r} is not allowed here (it must match {ctx.get('pattern')})"
    if err["type"] == "extra_forbidden":
        return "is not a known key"
    if err["type"] == "missing":
        return "is required"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


# Names pydantic puts in an error's location for union branches: not keys the user wrote.
_BRANCHES = ("sql", "file")


def _key(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for i, p in enumerate(loc) if not (p in _BRANCHES and i and loc[i - 1] == "source"))


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in _key(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    key = _key(loc)
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key)


def problem(path: Path, lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...], msg: str) -> str:
    line = line_of(lines, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {_dotted(loc) or '(top level)'}: {msg}"


def key_lines(node: yaml.Node | None, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each key path of the YAML document to its 1-based line number."""
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return lines
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, key_node.value)
            lines[key] = key_node.start_mark.line + 1
            lines.update(key_lines(value_node, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = (*prefix, i)
            lines[key] = item.start_mark.line + 1
            lines.update(key_lines(item, key))
    return lines
