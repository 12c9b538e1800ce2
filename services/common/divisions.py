"""Administrative division codes (GB/T 2260).

The table in ``data/gbt2260.csv`` holds every province-, prefecture- and
county-level division as ``code,name,parent`` with 6-digit codes.  See
``data/ATTRIBUTION.md`` for where it comes from.

Code structure: ``PPxxxx`` is a province, ``PPRR00`` a prefecture-level unit
and ``PPRRCC`` a county-level unit.  Municipalities (北京, 天津, 上海, 重庆) carry
a prefecture row with the same name as the province (``310100 上海市``), and
some county-level units are administered directly by their province (e.g.
``419001 济源市``, ``469001 五指山市``); their ``parent`` is the province.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Division",
    "full_name",
    "is_known",
    "lookup",
    "prefecture_of",
    "province_of",
]

_DATA_FILE = Path(__file__).resolve().parent / "data" / "gbt2260.csv"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str | None


def _is_code(code: object) -> bool:
    return isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()


def _require_code(code: str) -> None:
    if not _is_code(code):
        raise ValueError("division code must be exactly 6 ASCII digits")


@functools.cache
def _table() -> dict[str, Division]:
    table: dict[str, Division] = {}
    with _DATA_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["code"]
            table[code] = Division(code=code, name=row["name"], parent=row["parent"] or None)
    return table


def every() -> list[Division]:
    """Every division of the table, for those (the console) that check codes elsewhere."""
    return list(_table().values())


def lookup(code: str) -> Division | None:
    """Return the division for a 6-digit code, or ``None`` if it is unknown or malformed."""
    if not _is_code(code):
        return None
    return _table().get(code)


def is_known(code: str) -> bool:
    """Whether ``code`` is a 6-digit code present in the table."""
    return lookup(code) is not None


def province_of(code: str) -> str:
    """Province-level code of ``code``: ``"320585"`` -> ``"320000"``.

    Purely structural; the code itself need not be in the table.  Raises
    ``ValueError`` for anything that is not 6 ASCII digits.
    """
    _require_code(code)
    return code[:2] + "0000"


def prefecture_of(code: str) -> str:
    """Prefecture-level code of ``code``: ``"320585"`` -> ``"320500"``.

    A prefecture-level code maps to itself; municipal districts map to the
    municipality's prefecture row (``"310115"`` -> ``"310100"``).  County-level
    units administered directly by a province map to the GB/T 2260 grouping
    code (``"419001"`` -> ``"419000"``, "省直辖县级行政区划"), which has no
    row in the table.  Raises ``ValueError`` for malformed codes and for
    province-level codes, which have no prefecture.
    """
    _require_code(code)
    if code[2:] == "0000":
        raise ValueError("a province-level code has no prefecture")
    return code[:4] + "00"


def full_name(code: str) -> str:
    """Joined names of province, prefecture and county: ``"江苏省苏州市太仓市"``.

    Levels missing from the table are skipped and a prefecture that repeats
    the province name (municipalities) is not repeated: ``"310115"`` ->
    ``"上海市浦东新区"``.  Raises ``ValueError`` for unknown or malformed codes.
    """
    division = lookup(code)
    if division is None:
        raise ValueError("unknown division code")
    table = _table()
    chain: list[str] = []
    current: Division | None = division
    while current is not None:
        chain.append(current.name)
        current = table.get(current.parent) if current.parent else None
    names: list[str] = []
    for name in reversed(chain):
        if not names or names[-1] != name:
            names.append(name)
    return "".join(names)


def within(jurisdiction: str, division: str) -> bool:
    """Whether ``division`` lies in ``jurisdiction``: a county code covers itself, a prefecture
    code (ending in 00) its counties, a province code (ending in 0000) its whole province."""
    prefix = jurisdiction
    while prefix.endswith("00"):
        prefix = prefix[:-2]
    return bool(prefix) and division.startswith(prefix)
