"""The catalog of matters, loaded from ``matters.toml`` beside this file."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

CATALOG_FILE = Path(__file__).parent / "matters.toml"

# The parts of an application a matter may ask for (fields of MatterDetails, and the household).
KNOWN_FIELDS = frozenset(
    {
        "household_members",
        "details.other_party",
        "details.organisation",
        "details.death",
        "details.economic_check_consent",
        "details.care",
        "details.disability",
        "details.hardship",
        "details.requested_amount_fen",
    }
)
DEPARTMENTS = ("assistance", "elderly", "orgs", "registry")


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
    required_materials: tuple[Material, ...]
    # Parts of the application the matter needs: "household_members", "details.death", ...
    fields: tuple[str, ...] = ()
    minimum_age: int = 0
    # Every department reports and the case completes when all have ("after death, one thing").
    joint: bool = False

    @property
    def needs_household(self) -> bool:
        return "household_members" in self.fields


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
        unknown_fields = [f for f in entry.get("fields", ()) if f not in KNOWN_FIELDS]
        if unknown_fields:
            raise ValueError(f"matter {entry['code']} names unknown fields: {unknown_fields}")
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
            required_materials=tuple(materials[m] for m in entry["required_materials"]),
            fields=tuple(entry.get("fields", ())),
            minimum_age=int(entry.get("minimum_age", 0)),
            joint=bool(entry.get("joint", False)),
        )
    return Catalog(versions)


@functools.cache
def load() -> Catalog:
    return parse(CATALOG_FILE.read_text(encoding="utf-8"))
