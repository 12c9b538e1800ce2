"""Checking the audit log's hash chain from what the API shows of it.

The chain hashes each entry as the intake service built it (services/intake/audit_log.py); the
API shows the same entry in the proto JSON mapping. Rebuilding the hashed form from the JSON
must give back exactly those bytes, or every entry would look tampered with.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from services.common.audit import Entry, first_break

# RFC 3339 as protobuf's JSON mapping writes a Timestamp: 0, 3, 6 or 9 fractional digits.
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


def created_at(create_time: str) -> str:
    """The API's createTime in the form the chain hashed: the UTC datetime's isoformat(), which
    writes microseconds only when there are any and the offset as +00:00."""
    found = _RFC3339.match(create_time)
    if found is None:
        raise ValueError(f"createTime {create_time!r} is not an RFC 3339 time")
    whole, fraction, offset = found.groups()
    # PostgreSQL keeps microseconds, so digits past the sixth are always zero.
    micro = int((fraction or "").ljust(6, "0")[:6])
    moment = dt.datetime.fromisoformat(whole + ("+00:00" if offset == "Z" else offset))
    return moment.replace(microsecond=micro).astimezone(dt.UTC).isoformat()


def entry(item: dict[str, Any]) -> tuple[Entry, str]:
    """An AuditEntry's JSON as the chain's entry and its stored hash."""
    return (
        Entry(
            # int64 is a string in the JSON mapping.
            sequence=int(item.get("sequence", 0)),
            created_at=created_at(str(item.get("createTime", ""))),
            actor=str(item.get("actor", "")),
            action=str(item.get("action", "")),
            receipt=str(item.get("receipt", "")),
            fields=tuple(str(f) for f in item.get("fields") or ()),
            trace_id=str(item.get("traceId", "")),
            detail=str(item.get("detail", "")),
            actor_name=str(item.get("actorName", "")),
        ),
        str(item.get("hash", "")),
    )


@dataclass(frozen=True)
class Verdict:
    checked: int
    # Sequence number of the first entry whose hash does not follow; None when intact.
    broken_at: int | None
    last_sequence: int | None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(
    pages: Iterable[list[dict[str, Any]]], on_progress: Callable[[int, int], None] | None = None
) -> Verdict:
    """Walks the chain page by page as it arrives and stops at the first break, so a broken
    chain is reported without fetching the rest of it."""
    checked = 0
    last: int | None = None

    def walk() -> Iterator[tuple[Entry, str]]:
        nonlocal checked, last
        for page in pages:
            for item in page:
                found = entry(item)
                checked += 1
                last = found[0].sequence
                yield found
            if on_progress is not None and last is not None:
                on_progress(checked, last)

    broken_at = first_break(walk())
    return Verdict(checked=checked, broken_at=broken_at, last_sequence=last)
