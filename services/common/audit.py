"""The audit log's hash chain: how an entry's hash is computed, and how a chain is checked.
Pure, so that intake, which appends, and `onedoor audit verify`, which checks, hash alike."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    sequence: int
    created_at: str
    actor: str
    action: str
    receipt: str
    fields: tuple[str, ...]
    trace_id: str
    detail: str
    # Hashed only when set, so entries written before names were recorded hash as they did.
    actor_name: str = ""


def chain_hash(previous: str, entry: Entry) -> str:
    body = json.dumps(
        [
            entry.sequence,
            entry.created_at,
            entry.actor,
            entry.action,
            entry.receipt,
            list(entry.fields),
            entry.trace_id,
            entry.detail,
            *([entry.actor_name] if entry.actor_name else []),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{previous}{body}".encode()).hexdigest()


def first_break(entries: Iterable[tuple[Entry, str]]) -> int | None:
    """The sequence number of the first entry whose stored hash does not follow from the chain
    (a changed, inserted or removed row before it), or None when the whole chain holds.
    Sequence numbers may have gaps (a rolled-back insert); the hashes may not."""
    previous = GENESIS
    for entry, stored in entries:
        if chain_hash(previous, entry) != stored:
            return entry.sequence
        previous = stored
    return None
