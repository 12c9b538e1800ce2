"""What the platform knows of the persons a record names: their household file, the file's
assessment and identification, and the matters each person holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from services.ingest.judging.records import PersonKey


class Benefit(StrEnum):
    """A matter a person holds (a benefit being paid, a card issued), by its catalog code."""

    DIBAO = "assistance.dibao"
    HARDSHIP = "assistance.hardship"
    LOW_INCOME = "assistance.low_income"
    DISABILITY_SUBSIDY = "assistance.disability_subsidy"
    SENIOR_CARD = "elderly.senior_card"
    AGE_ALLOWANCE = "elderly.age_allowance"
    HOME_CARE = "elderly.home_care"

    @property
    def department(self) -> str:
        return self.value.split(".", 1)[0]


class Identification(StrEnum):
    """What a household has been identified as, by the matter that identified it."""

    LOW_INCOME = "assistance.low_income"  # 低收入人口（低保边缘等）
    DIBAO = "assistance.dibao"  # 最低生活保障
    HARDSHIP = "assistance.hardship"  # 特困人员


@dataclass(frozen=True)
class Identified:
    kind: Identification
    since: dt.date
    # None: never reviewed since it was identified.
    last_reviewed_on: dt.date | None = None
    # 收入来源不固定、家庭成员有劳动能力: dibao households so marked are reviewed more often.
    income_unstable: bool = False

    @property
    def reviewed_or_identified_on(self) -> dt.date:
        return self.last_reviewed_on or self.since


@dataclass(frozen=True)
class Household:
    """A household file ("one household, one file")."""

    file_id: str
    # GB/T 2260 code of the file's jurisdiction: its rules apply.
    division: str
    members: frozenset[PersonKey]
    # The household's annual income as last assessed; None where it never was.
    annual_income_fen: int | None = None
    identified: tuple[Identified, ...] = ()

    def __post_init__(self) -> None:
        if not self.file_id:
            raise ValueError("file_id: must not be empty")
        if not (len(self.division) == 6 and self.division.isdigit()):
            raise ValueError("division: a 6-digit GB/T 2260 code")
        if not self.members:
            raise ValueError("members: a household has at least one member")
        if self.annual_income_fen is not None and self.annual_income_fen < 0:
            raise ValueError("annual_income_fen: must not be negative")
        kinds = [i.kind for i in self.identified]
        if len(kinds) != len(set(kinds)):
            raise ValueError("identified: each identification at most once")


@dataclass(frozen=True)
class Person:
    key: PersonKey
    # From the identity number (services.common.identity.birth_date) when it arrived; None
    # where the department that knows the person keeps no birth date (a batch's match needs
    # none: only the daily sweep's age milestones do).
    born_on: dt.date | None
    # GB/T 2260 code of the hukou jurisdiction: its rules apply to the person's own matters.
    division: str
    household_file: str | None = None
    benefits: frozenset[Benefit] = field(default_factory=frozenset)
    # A death the platform already knows (a window death registration).
    died_on: dt.date | None = None

    def __post_init__(self) -> None:
        if not (len(self.division) == 6 and self.division.isdigit()):
            raise ValueError("division: a 6-digit GB/T 2260 code")
