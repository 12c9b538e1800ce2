"""The reason templates an officer picks from (``reasons.toml`` beside this file): per matter
and decision kind, with the general ones that fit any matter."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from services.common import catalog

REASONS_FILE = Path(__file__).parent / "reasons.toml"
ANY_MATTER = "*"
DECISION_KINDS = ("approve", "reject", "request_materials")


@dataclass(frozen=True)
class ReasonTemplate:
    matter: str
    decision: str
    code: str
    text: str


def parse(text: str, known_matters: frozenset[str]) -> tuple[ReasonTemplate, ...]:
    """The templates, or ValueError naming the entry that is wrong."""
    found: list[ReasonTemplate] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(tomllib.loads(text).get("reason", [])):
        where = f"reason[{index}]"
        matter, decision = entry.get("matter", ""), entry.get("decision", "")
        code, said = entry.get("code", ""), entry.get("text", "")
        if matter != ANY_MATTER and matter not in known_matters:
            raise ValueError(f"{where}.matter {matter!r} is not a matter of the catalog")
        if decision not in DECISION_KINDS:
            raise ValueError(f"{where}.decision must be one of {', '.join(DECISION_KINDS)}")
        if not code or not said.strip():
            raise ValueError(f"{where} needs a code and a text")
        if len(said) > 500:
            # The decision's reason holds at most 1000 characters, free text included.
            raise ValueError(f"{where}.text must be at most 500 characters")
        if (matter, code) in seen:
            raise ValueError(f"{where}.code {code!r} is used twice for {matter}")
        seen.add((matter, code))
        found.append(ReasonTemplate(matter, decision, code, said))
    return tuple(found)


@functools.cache
def load() -> tuple[ReasonTemplate, ...]:
    matters = frozenset(code for code, _ in catalog.load().versions)
    return parse(REASONS_FILE.read_text(encoding="utf-8"), matters)


def for_matter(matter_code: str) -> list[ReasonTemplate]:
    """The matter's own templates first, then the general ones."""
    every = load()
    return [t for t in every if t.matter == matter_code] + [
        t for t in every if t.matter == ANY_MATTER
    ]
