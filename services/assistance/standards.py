"""Jurisdiction standards: configuration per division code with a national default."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from services.common.config import env_str

DEFAULT_FILE = Path(__file__).parent / "standards.toml"


@dataclass(frozen=True)
class Standard:
    fen_per_person: int
    # The matching key ("3205"), or "" for the default.
    division: str


@dataclass(frozen=True)
class DibaoStandards:
    by_prefix: dict[str, int]
    default_fen: int

    def for_division(self, division: str) -> Standard:
        for length in range(len(division), 0, -1):
            prefix = division[:length]
            if prefix in self.by_prefix:
                return Standard(self.by_prefix[prefix], prefix)
        return Standard(self.default_fen, "")


def _fen(yuan: object) -> int:
    if not isinstance(yuan, int | float) or yuan <= 0:
        raise ValueError(f"a standard must be a positive amount of yuan, not {yuan!r}")
    return round(float(yuan) * 100)


def parse(text: str) -> DibaoStandards:
    data = tomllib.loads(text)
    table = data.get("dibao", {})
    for key in table:
        if not (key.isdigit() and len(key) in (2, 4, 6)):
            raise ValueError(
                f"dibao standard key {key!r} must be a 2, 4 or 6-digit division prefix"
            )
    return DibaoStandards({k: _fen(v) for k, v in table.items()}, _fen(data["default"]))


def load() -> DibaoStandards:
    path = Path(env_str("DIBAO_STANDARDS_FILE", str(DEFAULT_FILE)))
    return parse(path.read_text(encoding="utf-8"))
