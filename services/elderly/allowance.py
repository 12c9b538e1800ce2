"""Age bands and the age allowance. Pure: amounts come from configuration per jurisdiction."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).parent / "allowances.toml"
SENIOR_AGE = 60


@dataclass(frozen=True)
class Band:
    # First year of the band: 80 for 80-89, 100 for 100 and over.
    start: int
    end: int | None

    @property
    def label(self) -> str:
        return f"{self.start}+" if self.end is None else f"{self.start}-{self.end}"


@dataclass(frozen=True)
class AllowanceTable:
    # division prefix ("" for the default) -> band start -> fen per month
    amounts: dict[str, dict[int, int]]

    def bands(self, division: str) -> list[Band]:
        starts = sorted(self._for(division)[1])
        return [
            Band(start, starts[i + 1] - 1 if i + 1 < len(starts) else None)
            for i, start in enumerate(starts)
        ]

    def _for(self, division: str) -> tuple[str, dict[int, int]]:
        for length in range(len(division), 0, -1):
            if division[:length] in self.amounts:
                return division[:length], self.amounts[division[:length]]
        return "", self.amounts[""]

    def band_of(self, age: int, division: str) -> Band | None:
        found = [
            b for b in self.bands(division) if age >= b.start and (b.end is None or age <= b.end)
        ]
        return found[0] if found else None

    def amount_fen(self, band: Band, division: str) -> int:
        return self._for(division)[1][band.start]


def parse(text: str) -> AllowanceTable:
    data = tomllib.loads(text)
    if "default" not in data:
        raise ValueError("the allowance table needs a [default] section")
    amounts: dict[str, dict[int, int]] = {}
    for key, bands in data.items():
        prefix = "" if key == "default" else key
        if prefix and not (prefix.isdigit() and len(prefix) in (2, 4, 6)):
            raise ValueError(f"allowance key {key!r} must be a 2, 4 or 6-digit division prefix")
        parsed = {int(start): round(float(yuan) * 100) for start, yuan in bands.items()}
        if any(start < SENIOR_AGE for start in parsed) or any(v <= 0 for v in parsed.values()):
            raise ValueError(f"[{key}]: bands start at {SENIOR_AGE} or later with positive amounts")
        amounts[prefix] = parsed
    return AllowanceTable(amounts)


def load(path: Path = DEFAULT_FILE) -> AllowanceTable:
    """The table in ``path`` (AGE_ALLOWANCE_FILE; the shipped table by default)."""
    return parse(path.read_text(encoding="utf-8"))
