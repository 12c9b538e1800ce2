"""Jurisdiction standards: configuration per division code with a national default."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).parent / "standards.toml"
KINDS = ("dibao", "disability_living", "disability_care")


@dataclass(frozen=True)
class Standard:
    fen_per_person: int
    # The matching key ("3205"), or "" for the default.
    division: str


@dataclass(frozen=True)
class Standards:
    # kind -> division prefix ("" for the default) -> fen per person per month
    table: dict[str, dict[str, int]]

    def lookup(self, kind: str, division: str) -> Standard:
        by_prefix = self.table[kind]
        for length in range(len(division), 0, -1):
            if division[:length] in by_prefix:
                return Standard(by_prefix[division[:length]], division[:length])
        return Standard(by_prefix[""], "")

    def for_division(self, division: str) -> Standard:
        """The dibao standard, which most assistance rules are measured against."""
        return self.lookup("dibao", division)


def _fen(where: str, yuan: object) -> int:
    if not isinstance(yuan, int | float) or yuan <= 0:
        raise ValueError(f"{where}: a standard must be a positive amount of yuan, not {yuan!r}")
    return round(float(yuan) * 100)


def parse(text: str) -> Standards:
    data = tomllib.loads(text)
    if "default" not in data or any(k not in data["default"] for k in KINDS):
        raise ValueError(f"the [default] table must set {', '.join(KINDS)}")
    table: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for key, entry in data.items():
        prefix = "" if key == "default" else key
        if prefix and not (prefix.isdigit() and len(prefix) in (2, 4, 6)):
            raise ValueError(f"standards key {key!r} must be a 2, 4 or 6-digit division prefix")
        for kind, yuan in entry.items():
            if kind not in KINDS:
                raise ValueError(f"[{key}] {kind}: not a standard (known: {', '.join(KINDS)})")
            table[kind][prefix] = _fen(f"[{key}] {kind}", yuan)
    return Standards(table)


def load(path: Path = DEFAULT_FILE) -> Standards:
    """The standards in ``path`` (DIBAO_STANDARDS_FILE; the shipped table by default)."""
    return parse(path.read_text(encoding="utf-8"))
