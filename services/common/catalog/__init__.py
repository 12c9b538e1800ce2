"""The catalog of matters, loaded from ``matters.toml`` beside this file."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

CATALOG_FILE = Path(__file__).parent / "matters.toml"


@dataclass(frozen=True)
class Material:
    code: str
    title_zh: str
    title_en: str


@dataclass(frozen=True)
class Matter:
    code: str
    version: int
    title_zh: str
    title_en: str
    departments: tuple[str, ...]
    time_limit_days: int
    cross_jurisdiction: bool
    needs_household: bool
    required_materials: tuple[Material, ...]


@dataclass(frozen=True)
class Catalog:
    # Every version of every matter, keyed by (code, version).
    versions: dict[tuple[str, int], Matter]

    def latest(self, code: str) -> Matter | None:
        found = [m for (c, _), m in self.versions.items() if c == code]
        return max(found, key=lambda m: m.version) if found else None

    def version(self, code: str, version: int) -> Matter | None:
        return self.versions.get((code, version))

    def current(self) -> list[Matter]:
        codes = sorted({c for c, _ in self.versions})
        return [m for m in (self.latest(c) for c in codes) if m is not None]


def parse(text: str) -> Catalog:
    data = tomllib.loads(text)
    materials = {
        code: Material(code, entry["title_zh"], entry["title_en"])
        for code, entry in data.get("material", {}).items()
    }
    versions: dict[tuple[str, int], Matter] = {}
    for entry in data.get("matter", []):
        unknown = [m for m in entry["required_materials"] if m not in materials]
        if unknown:
            raise ValueError(f"matter {entry['code']} names unknown materials: {unknown}")
        key = (entry["code"], int(entry["version"]))
        if key in versions:
            raise ValueError(f"matter {key[0]} version {key[1]} is defined twice")
        versions[key] = Matter(
            code=entry["code"],
            version=int(entry["version"]),
            title_zh=entry["title_zh"],
            title_en=entry["title_en"],
            departments=tuple(entry["departments"]),
            time_limit_days=int(entry["time_limit_days"]),
            cross_jurisdiction=bool(entry["cross_jurisdiction"]),
            needs_household=bool(entry.get("needs_household", False)),
            required_materials=tuple(materials[m] for m in entry["required_materials"]),
        )
    return Catalog(versions)


@functools.cache
def load() -> Catalog:
    return parse(CATALOG_FILE.read_text(encoding="utf-8"))
