"""Builders for the rules' inputs: persons as keyed hashes of made-up numbers, households,
records with agency ids, and a rules table written out in each test's own terms."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from services.ingest.judging import outreach_rules
from services.ingest.judging.household import Benefit, Household, Identified, Person
from services.ingest.judging.outreach_rules import OutreachRules
from services.ingest.judging.records import (
    Death,
    DisabilityCategory,
    DisabilityGrade,
    MedicalExpense,
    PersonKey,
    RecordId,
    Unemployment,
)

DIVISION = "320585"
_ids = itertools.count(1)

RULES_TOML = """
[default.illness_poverty]
income_share = 0.5
absolute_yuan = 50000
window_months = 12

[default.review]
low_income_months = 12
dibao_months = 12
dibao_unstable_income_months = 6
hardship_months = 12
early_on = ["unemployment", "death", "medical_spending"]

[default.age_allowance]
milestones = [80, 90, 100]
catch_up_days = 30

[default.unmatched]
retention_days = 180
"""


def rules(extra: str = "") -> OutreachRules:
    return outreach_rules.parse(RULES_TOML + extra)


def key(n: int) -> PersonKey:
    return PersonKey(hashlib.sha256(f"person {n}".encode()).digest())


def source(agency: str = "medical_insurance") -> RecordId:
    return RecordId(agency, f"R{next(_ids):06d}")


def household(
    *members: int,
    income_yuan: int | None = 100_000,
    income_fen: int | None = None,
    identified: tuple[Identified, ...] = (),
    file_id: str = "HF-0000000001",
    division: str = DIVISION,
) -> Household:
    return Household(
        file_id=file_id,
        division=division,
        members=frozenset(key(m) for m in members or (1,)),
        annual_income_fen=income_fen
        if income_fen is not None
        else (None if income_yuan is None else income_yuan * 100),
        identified=identified,
    )


def person(
    n: int = 1,
    *,
    born_on: dt.date = dt.date(1950, 6, 15),
    benefits: tuple[Benefit, ...] = (),
    died_on: dt.date | None = None,
    division: str = DIVISION,
) -> Person:
    return Person(
        key=key(n),
        born_on=born_on,
        division=division,
        household_file="HF-0000000001",
        benefits=frozenset(benefits),
        died_on=died_on,
    )


def bill(n: int, settled_on: dt.date, out_of_pocket_fen: int, **kw: object) -> MedicalExpense:
    return MedicalExpense(
        source=kw.get("source") or source(),  # type: ignore[arg-type]
        person=key(n),
        settled_on=settled_on,
        total_fen=out_of_pocket_fen * 3,
        out_of_pocket_fen=out_of_pocket_fen,
    )


def death(n: int, died_on: dt.date) -> Death:
    return Death(source("public_security"), key(n), died_on)


def unemployment(n: int, registered_on: dt.date) -> Unemployment:
    return Unemployment(source("human_resources"), key(n), registered_on)


def grade(n: int, grade: int, changed_on: dt.date) -> DisabilityGrade:
    return DisabilityGrade(
        source("disabled_persons_federation"),
        key(n),
        grade,
        DisabilityCategory.PHYSICAL,
        changed_on,
    )
