"""The outreach rules per jurisdiction (outreach_rules.toml), loaded once and validated: every
error names the table and the key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

from services.ingest.judging.household import Identification

DEFAULT_FILE = Path(__file__).parent / "outreach_rules.toml"


class RulesError(ValueError):
    """The rules file is wrong; the message names the table and key."""


class EarlyTrigger(StrEnum):
    UNEMPLOYMENT = "unemployment"
    DEATH = "death"
    MEDICAL_SPENDING = "medical_spending"


@dataclass(frozen=True)
class IllnessPovertyRules:
    income_share: Fraction
    absolute_fen: int
    window_months: int


@dataclass(frozen=True)
class ReviewRules:
    low_income_months: int
    dibao_months: int
    dibao_unstable_income_months: int
    hardship_months: int
    early_on: frozenset[EarlyTrigger]

    def interval_months(self, kind: Identification, *, income_unstable: bool) -> int:
        if kind is Identification.DIBAO:
            return self.dibao_unstable_income_months if income_unstable else self.dibao_months
        if kind is Identification.HARDSHIP:
            return self.hardship_months
        return self.low_income_months


@dataclass(frozen=True)
class AgeAllowanceRules:
    milestones: tuple[int, ...]
    catch_up_days: int


@dataclass(frozen=True)
class UnmatchedRules:
    retention_days: int


@dataclass(frozen=True)
class JurisdictionRules:
    # The matching key ("3205"), or "" for the default.
    division: str
    illness_poverty: IllnessPovertyRules
    review: ReviewRules
    age_allowance: AgeAllowanceRules
    unmatched: UnmatchedRules


@dataclass(frozen=True)
class OutreachRules:
    by_prefix: Mapping[str, JurisdictionRules]

    def for_division(self, division: str) -> JurisdictionRules:
        for length in range(len(division), 0, -1):
            if division[:length] in self.by_prefix:
                return self.by_prefix[division[:length]]
        return self.by_prefix[""]


_KEYS: dict[str, tuple[str, ...]] = {
    "illness_poverty": ("income_share", "absolute_yuan", "window_months"),
    "review": (
        "low_income_months",
        "dibao_months",
        "dibao_unstable_income_months",
        "hardship_months",
        "early_on",
    ),
    "age_allowance": ("milestones", "catch_up_days"),
    "unmatched": ("retention_days",),
}


def _where(table: str, section: str, key: str) -> str:
    head = "default" if table == "" else f'"{table}"'
    return f"[{head}.{section}] {key}"


def _months(where: str, value: object, *, most: int = 120) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise RulesError(f"{where}: a whole number of months from 1 to {most}, not {value!r}")
    return value


def _days(where: str, value: object, *, most: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise RulesError(f"{where}: a whole number of days from 1 to {most}, not {value!r}")
    return value


def _decimal(where: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RulesError(f"{where}: a number, not {value!r}")
    try:
        # Through str: 0.1 is the decimal 0.1, not the float nearest to it.
        number = Decimal(str(value))
    except InvalidOperation:
        raise RulesError(f"{where}: a number, not {value!r}") from None
    if not number.is_finite():
        raise RulesError(f"{where}: a number, not {value!r}")
    return number


def _share(where: str, value: object) -> Fraction:
    number = _decimal(where, value)
    if not 0 < number <= 1:
        raise RulesError(f"{where}: a share above 0 and at most 1, not {value!r}")
    return Fraction(number)


def _fen(where: str, value: object) -> int:
    fen = _decimal(where, value) * 100
    if fen <= 0 or fen != fen.to_integral_value():
        raise RulesError(f"{where}: a positive amount of yuan in whole fen, not {value!r}")
    return int(fen)


def _triggers(where: str, value: object) -> frozenset[EarlyTrigger]:
    known = ", ".join(t.value for t in EarlyTrigger)
    if not isinstance(value, list):
        raise RulesError(f"{where}: a list of {known}, not {value!r}")
    try:
        return frozenset(EarlyTrigger(v) for v in value)
    except ValueError:
        raise RulesError(f"{where}: each one of {known}, not {value!r}") from None


def _milestones(where: str, value: object) -> tuple[int, ...]:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(v, int) or isinstance(v, bool) or not 60 <= v <= 150 for v in value)
    ):
        raise RulesError(f"{where}: a list of ages from 60 to 150, not {value!r}")
    ages = sorted(set(value))
    if len(ages) != len(value):
        raise RulesError(f"{where}: an age listed twice in {value!r}")
    return tuple(ages)


def _build(
    prefix: str, raw: Mapping[str, Mapping[str, Any]], origin: Mapping[str, str]
) -> JurisdictionRules:
    def at(section: str, key: str) -> str:
        return _where(origin[f"{section}.{key}"], section, key)

    ill, rev, age, unm = (
        raw[s] for s in ("illness_poverty", "review", "age_allowance", "unmatched")
    )
    age_rules = AgeAllowanceRules(
        milestones=_milestones(at("age_allowance", "milestones"), age["milestones"]),
        # Longer than the ten years between milestones would let two ages open together.
        catch_up_days=_days(at("age_allowance", "catch_up_days"), age["catch_up_days"], most=366),
    )
    return JurisdictionRules(
        division=prefix,
        illness_poverty=IllnessPovertyRules(
            income_share=_share(at("illness_poverty", "income_share"), ill["income_share"]),
            absolute_fen=_fen(at("illness_poverty", "absolute_yuan"), ill["absolute_yuan"]),
            window_months=_months(at("illness_poverty", "window_months"), ill["window_months"]),
        ),
        review=ReviewRules(
            low_income_months=_months(at("review", "low_income_months"), rev["low_income_months"]),
            dibao_months=_months(at("review", "dibao_months"), rev["dibao_months"]),
            dibao_unstable_income_months=_months(
                at("review", "dibao_unstable_income_months"), rev["dibao_unstable_income_months"]
            ),
            hardship_months=_months(at("review", "hardship_months"), rev["hardship_months"]),
            early_on=_triggers(at("review", "early_on"), rev["early_on"]),
        ),
        age_allowance=age_rules,
        unmatched=UnmatchedRules(
            retention_days=_days(
                at("unmatched", "retention_days"), unm["retention_days"], most=3660
            )
        ),
    )


def parse(text: str, *, source: str = "outreach_rules.toml") -> OutreachRules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{source}: not valid TOML: {error}") from None
    if "default" not in data:
        raise RulesError(f"{source}: the [default] tables are missing")
    tables: dict[str, Mapping[str, Any]] = {}
    for key, entry in data.items():
        prefix = "" if key == "default" else key
        if prefix and not (prefix.isdigit() and len(prefix) in (2, 4, 6)):
            raise RulesError(f"{source}: key {key!r} must be default or a 2, 4 or 6-digit prefix")
        if not isinstance(entry, dict):
            raise RulesError(f"{source}: [{key}] must be a table of sections")
        for section, values in entry.items():
            where = _where(prefix, section, "")[:-1]
            if section not in _KEYS:
                raise RulesError(f"{source}: {where}: not a section (known: {', '.join(_KEYS)})")
            if not isinstance(values, dict):
                raise RulesError(f"{source}: {where}: must be a table")
            for name in values:
                if name not in _KEYS[section]:
                    raise RulesError(
                        f"{source}: {_where(prefix, section, name)}: not a setting "
                        f"(known: {', '.join(_KEYS[section])})"
                    )
        tables[prefix] = entry
    for section, names in _KEYS.items():
        for name in names:
            if name not in tables[""].get(section, {}):
                raise RulesError(f"{source}: {_where('', section, name)}: missing")
    by_prefix: dict[str, JurisdictionRules] = {}
    # Shorter prefixes first, so each table builds on the nearest shorter one already merged.
    merged: dict[str, tuple[dict[str, dict[str, Any]], dict[str, str]]] = {}
    for prefix in sorted(tables, key=len):
        parent = next(
            (prefix[:n] for n in range(len(prefix) - 1, 0, -1) if prefix[:n] in merged), ""
        )
        raw, origin = ({s: {} for s in _KEYS}, {}) if prefix == "" else merged[parent]
        raw = {s: dict(v) for s, v in raw.items()}
        origin = dict(origin)
        for section, values in tables[prefix].items():
            raw[section].update(values)
            origin.update({f"{section}.{name}": prefix for name in values})
        merged[prefix] = (raw, origin)
        try:
            by_prefix[prefix] = _build(prefix, raw, origin)
        except RulesError as error:
            raise RulesError(f"{source}: {error}") from None
    return OutreachRules(by_prefix)


def load(path: Path = DEFAULT_FILE) -> OutreachRules:
    """The rules in ``path`` (OUTREACH_RULES_FILE; the shipped file by default)."""
    return parse(path.read_text(encoding="utf-8"), source=path.name)
