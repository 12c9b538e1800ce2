"""Rendering for people: aligned tables and field lists, measured in terminal columns so that
Chinese names and titles (two columns a character) line up; and JSON for scripts."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from services.common.clock import BureauClock

ELLIPSIS = "…"
GAP = "  "


def clean(value: object) -> str:
    """A value as one line of plain text. Notes and details come from the platform's data, so
    control characters (a newline, a terminal escape) must not reach the terminal."""
    text = str(value)
    return "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in text
        if unicodedata.category(c) != "Cf" or c == "\u200d"
    )


def char_width(char: str) -> int:
    if unicodedata.combining(char) or char == "\u200d":
        return 0
    # Wide and fullwidth forms (Chinese characters, fullwidth punctuation) take two columns;
    # "ambiguous" ones take one in the terminals a bureau uses.
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def width(text: str) -> int:
    return sum(char_width(c) for c in text)


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` columns, ending in an ellipsis when cut; never splits a wide
    character across the edge."""
    if width(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        w = char_width(char)
        if used + w > limit - 1:
            break
        kept.append(char)
        used += w
    return "".join(kept) + ELLIPSIS


def pad(text: str, columns: int, right: bool = False) -> str:
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    max_width: Sequence[int | None] | None = None,
    right: Sequence[bool] | None = None,
) -> str:
    """Columns sized to their widest cell (capped by ``max_width``), two spaces apart; the last
    column is not padded, so lines carry no trailing spaces."""
    count = len(headers)
    caps = list(max_width or [None] * count)
    cells = [
        [
            truncate(clean(cell), cap) if cap else clean(cell)
            for cell, cap in zip(row, caps, strict=True)
        ]
        for row in rows
    ]
    widths = [max([width(h), *(width(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    aligned = list(right or [False] * count)
    lines = []
    for row in [list(headers), *cells]:
        parts = [pad(cell, widths[i], aligned[i]) for i, cell in enumerate(row)]
        if not aligned[-1]:
            parts[-1] = row[-1]
        lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, object]], indent: str = "") -> str:
    """ "name  value" lines with the values aligned; empty values are left out."""
    shown = [(name, clean(value)) for name, value in pairs if value not in ("", None)]
    if not shown:
        return ""
    label = max(width(name) for name, _ in shown)
    return "\n".join(f"{indent}{pad(name, label)}{GAP}{value}" for name, value in shown)


def short(enum_name: str, prefix: str) -> str:
    """An enum name without its type's prefix: CASE_STATUS_ROUTED reads ROUTED."""
    return enum_name.removeprefix(prefix) if enum_name else ""


# The clock every time is shown on: the bureau's (BUREAU_TIME_ZONE), set once by ``main`` from
# the settings, so that no view needs it passed down.
_shown_on = BureauClock()


def show_times_in(clock: BureauClock) -> None:
    global _shown_on
    _shown_on = clock


def moment(timestamp: str, clock: BureauClock | None = None) -> str:
    """An RFC 3339 time from the API as people at the bureau read it: its local time, to the
    second, with the offset ("2026-11-24 20:32:51 +08:00" for 12:32:51Z in Shanghai)."""
    if not timestamp:
        return ""
    if "T" not in timestamp:
        return timestamp
    whole, _, _ = timestamp.rstrip("Z").partition(".")
    offset = "+00:00" if timestamp.endswith("Z") else timestamp[-6:]
    instant = dt.datetime.fromisoformat(whole.split("+")[0] + offset)
    local = (clock or _shown_on).local(instant)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.isoformat()[-6:]}"


def yes(flag: object) -> str:
    return "yes" if flag else "no"


def emit_json(value: Any, out: TextIO) -> None:
    # ensure_ascii off: a script reading 最低生活保障 should see it, not escapes.
    out.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
