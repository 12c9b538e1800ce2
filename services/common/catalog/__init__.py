"""The catalog of matters, loaded from ``matters.toml`` beside this file."""

from __future__ import annotations

import enum
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from services.common.legal_calendar import Unit

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


@dataclass(frozen=True)
class Material:
    code: str
    title_zh: str
    title_en: str


class Exclusive(enum.Enum):
    """Who may not have two open cases of one matter at once."""

    # Nobody: the matter may legitimately run several cases for a person at once.
    NONE = "none"
    APPLICANT = "applicant"
    # Any member of the household (the applicant is one).
    HOUSEHOLD = "household"
    # Either party of a marriage or a divorce.
    PARTIES = "parties"
    # The deceased: one death registration per person.
    DECEASED = "deceased"
    # The organisation, by its credit code.
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class TimeLimit:
    """A matter's legal time limit for the decision, counted from the day after acceptance."""

    # One period, or periods that follow one another (divorce: cooling-off, then confirmation).
    periods: tuple[int, ...]
    unit: Unit
    # The regulation and article the limit comes from, or the bureau's own commitment.
    source: str
    # How far the limit may be extended (same unit), 0 if it may not.
    extendable_to: int = 0

    @property
    def days(self) -> int:
        return sum(self.periods)


def _time_limit(code: str, entry: dict[str, object]) -> TimeLimit:
    raw = entry.get("time_limit")
    if not isinstance(raw, dict):
        raise ValueError(f"matter {code} needs a time_limit = {{ days, unit, source }}")
    days = raw.get("days")
    periods = tuple(days) if isinstance(days, list) else (days,)
    if not periods or not all(isinstance(d, int) and d >= 0 for d in periods):
        raise ValueError(f"matter {code}: time_limit.days must be whole days (or a list of them)")
    try:
        unit = Unit(raw.get("unit"))
    except ValueError:
        raise ValueError(
            f"matter {code}: time_limit.unit must be 'working' or 'calendar'"
        ) from None
    source = raw.get("source")
    if not isinstance(source, str) or not source:
        raise ValueError(f"matter {code}: time_limit.source must name the regulation and article")
    extendable_to = int(raw.get("extendable_to", 0))  # type: ignore[call-overload]
    if extendable_to and extendable_to <= sum(periods):
        raise ValueError(f"matter {code}: time_limit.extendable_to must exceed the limit")
    return TimeLimit(periods, unit, source, extendable_to)


@dataclass(frozen=True)
class Matter:
    code: str
    version: int
    title_zh: str
    title_en: str
    departments: tuple[str, ...]
    time_limit: TimeLimit
    cross_jurisdiction: bool
    required_materials: tuple[Material, ...]
    # Parts of the application the matter needs: "household_members", "details.death", ...
    fields: tuple[str, ...] = ()
    minimum_age: int = 0
    # Every department reports and the case completes when all have ("after death, one thing").
    joint: bool = False
    exclusive: Exclusive = Exclusive.APPLICANT
    # Its place among its leading department's matters in the order of a life (registration
    # before annual report before deregistration).
    life_order: int = 0
    # The departments that check an application against their own records at the window.
    checked_by: tuple[str, ...] = ()

    @property
    def time_limit_days(self) -> int:
        return self.time_limit.days

    @property
    def needs_household(self) -> bool:
        return "household_members" in self.fields


@dataclass(frozen=True)
class Catalog:
    # Every version of every matter, keyed by (code, version).
    versions: dict[tuple[str, int], Matter]
    # Every material any matter names, by code.
    materials: dict[str, Material] = field(default_factory=dict)

    def material(self, code: str) -> Material | None:
        return self.materials.get(code)

    def latest(self, code: str) -> Matter | None:
        found = [m for (c, _), m in self.versions.items() if c == code]
        return max(found, key=lambda m: m.version) if found else None

    def version(self, code: str, version: int) -> Matter | None:
        return self.versions.get((code, version))

    @property
    def departments(self) -> tuple[str, ...]:
        """Every department a matter names, in the order the catalog first names them."""
        return tuple(dict.fromkeys(d for m in self.versions.values() for d in m.departments))

    def current(self) -> list[Matter]:
        """The latest version of every matter, by leading department (in the catalog's order)
        and, within one, in the order of a life."""
        codes = {c for c, _ in self.versions}
        matters = [m for m in (self.latest(c) for c in codes) if m is not None]
        departments = self.departments
        return sorted(
            matters, key=lambda m: (departments.index(m.departments[0]), m.life_order, m.code)
        )


def _exclusive(code: str, entry: dict[str, object]) -> Exclusive:
    try:
        return Exclusive(entry.get("exclusive", "applicant"))
    except ValueError:
        names = ", ".join(e.value for e in Exclusive)
        raise ValueError(f"matter {code}: exclusive must be one of {names}") from None


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
        strangers = [d for d in entry.get("checked_by", ()) if d not in entry["departments"]]
        if strangers:
            raise ValueError(f"matter {entry['code']} is checked_by non-deciding {strangers}")
        key = (entry["code"], int(entry["version"]))
        if key in versions:
            raise ValueError(f"matter {key[0]} version {key[1]} is defined twice")
        versions[key] = Matter(
            code=entry["code"],
            version=int(entry["version"]),
            title_zh=entry["title_zh"],
            title_en=entry["title_en"],
            departments=tuple(entry["departments"]),
            time_limit=_time_limit(entry["code"], entry),
            cross_jurisdiction=bool(entry["cross_jurisdiction"]),
            required_materials=tuple(materials[m] for m in entry["required_materials"]),
            fields=tuple(entry.get("fields", ())),
            minimum_age=int(entry.get("minimum_age", 0)),
            joint=bool(entry.get("joint", False)),
            exclusive=_exclusive(entry["code"], entry),
            life_order=int(entry.get("life_order", 0)),
            checked_by=tuple(entry.get("checked_by", ())),
        )
    return Catalog(versions, materials)


@functools.cache
def load() -> Catalog:
    return parse(CATALOG_FILE.read_text(encoding="utf-8"))


# The departments, derived from the catalog: a matter naming a new department brings it into
# the launcher, the relay's sources, the router's subscriptions, the ports and the manifests'
# checks. Read once at import; the catalog file ships with the code.
DEPARTMENTS: tuple[str, ...] = load().departments
