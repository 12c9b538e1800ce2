"""What a rule decides: typed outcomes for the departments, each with its reason as a code and
typed arguments (rendered later in zh-CN and en like every case.v1 Text) and a dedup key the
storage makes unique."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from onedoor.case.v1 import case_pb2
from services.common import texts
from services.ingest.judging.records import PersonKey, RecordId


class Kind(StrEnum):
    ILLNESS_POVERTY_RISK = "illness_poverty_risk"  # 因病致贫风险预警
    AFTER_DEATH_SETTLEMENT = "after_death_settlement"  # 身后一件事
    DISABILITY_SUBSIDY_REVIEW = "disability_subsidy_review"  # 残疾人两项补贴复核
    IDENTIFICATION_REVIEW = "identification_review"  # 低收入人口动态监测、定期核查
    AGE_ALLOWANCE = "age_allowance"  # 高龄津贴免申即享


class Action(StrEnum):
    # Into the department's warnings queue: an officer decides (contact, open a case, dismiss).
    WARNING = "warning"
    # A proactive case is opened at once, waiting for the person to confirm (免申即享).
    PROACTIVE_CASE = "proactive_case"


class DedupScope(StrEnum):
    # At most one not yet closed (a partial unique index on the key where the state is open):
    # once dismissed or done, the same key may come up again.
    WHILE_OPEN = "while_open"
    # At most one ever (a plain unique index): a person dies, or turns 90, once.
    EVER = "ever"


class ReasonCode(StrEnum):
    """Each is ``TEXT_CODE_<value>`` in case.v1, worded in gateway/texts/{zh-CN,en}.toml with
    the same arguments."""

    ILLNESS_POVERTY_RISK = "ILLNESS_POVERTY_RISK"
    SPENDING_ABOVE_INCOME_SHARE = "SPENDING_ABOVE_INCOME_SHARE"
    SPENDING_ABOVE_AMOUNT = "SPENDING_ABOVE_AMOUNT"
    DEATH_OF_BENEFICIARY = "DEATH_OF_BENEFICIARY"
    HELD_MATTER = "HELD_MATTER"
    DISABILITY_GRADE_CHANGED = "DISABILITY_GRADE_CHANGED"
    WITHIN_CARE_SUBSIDY_GRADES = "WITHIN_CARE_SUBSIDY_GRADES"
    OUTSIDE_CARE_SUBSIDY_GRADES = "OUTSIDE_CARE_SUBSIDY_GRADES"
    REVIEW_DUE = "REVIEW_DUE"
    REVIEW_EARLY = "REVIEW_EARLY"
    MEMBER_UNEMPLOYED = "MEMBER_UNEMPLOYED"
    MEMBER_DIED = "MEMBER_DIED"
    LARGE_MEDICAL_SPENDING = "LARGE_MEDICAL_SPENDING"
    AGE_MILESTONE = "AGE_MILESTONE"
    AGE_MILESTONE_BAND_RAISE = "AGE_MILESTONE_BAND_RAISE"

    @property
    def text_code_name(self) -> str:
        return f"TEXT_CODE_{self.value}"

    @property
    def text_code(self) -> case_pb2.TextCode.ValueType:
        return case_pb2.TextCode.Value(self.text_code_name)


# The typed arguments: one per case.v1 TextArg kind the rules use; none carries personal data.


@dataclass(frozen=True)
class Amount:
    fen: int

    def text_arg(self) -> case_pb2.TextArg:
        return texts.amount(self.fen)


@dataclass(frozen=True)
class Count:
    n: int

    def text_arg(self) -> case_pb2.TextArg:
        return texts.count(self.n)


@dataclass(frozen=True)
class Day:
    day: dt.date

    def text_arg(self) -> case_pb2.TextArg:
        return texts.date(self.day)


@dataclass(frozen=True)
class Percent:
    """A share of income, shown as a percentage ("50" for a half): as Chinese says it."""

    share: Fraction

    def text_arg(self) -> case_pb2.TextArg:
        # Shares come from decimals in the configuration, so this terminates.
        return texts.decimal(_decimal(self.share * 100))


@dataclass(frozen=True)
class Departments:
    codes: tuple[str, ...]

    def text_arg(self) -> case_pb2.TextArg:
        return texts.departments(self.codes)


@dataclass(frozen=True)
class Matter:
    code: str

    def text_arg(self) -> case_pb2.TextArg:
        return texts.matter(self.code)


Arg = Amount | Count | Day | Percent | Departments | Matter


def _decimal(value: Fraction) -> str:
    whole, rest = divmod(value.numerator, value.denominator)
    if rest == 0:
        return str(whole)
    digits = []
    for _ in range(12):
        rest *= 10
        digit, rest = divmod(rest, value.denominator)
        digits.append(str(digit))
        if rest == 0:
            break
    return f"{whole}.{''.join(digits)}"


@dataclass(frozen=True)
class Reason:
    """Why: a code, its named typed arguments and clauses under it (case.v1 Text's details)."""

    code: ReasonCode
    args: tuple[tuple[str, Arg], ...] = ()
    details: tuple[Reason, ...] = ()

    @classmethod
    def of(cls, code: ReasonCode, *details: Reason, **args: Arg) -> Reason:
        return cls(code, tuple(args.items()), details)

    def arg(self, name: str) -> Arg:
        for named, value in self.args:
            if named == name:
                return value
        raise KeyError(name)

    def text_args(self) -> dict[str, case_pb2.TextArg]:
        """The arguments as case.v1 TextArgs, for ``texts.text(code, **reason.text_args())``."""
        return {name: value.text_arg() for name, value in self.args}

    def text(self) -> case_pb2.Text:
        """The reason as the case.v1 Text the gateway renders, its clauses as details."""
        return texts.text(
            self.code.text_code, *(d.text() for d in self.details), **self.text_args()
        )

    def detail_codes(self) -> tuple[ReasonCode, ...]:
        return tuple(d.code for d in self.details)


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    action: Action
    department: str
    matter: str
    # The jurisdiction whose rules decided it: the household's division, or for a person's
    # own matters (a death, a disability grade, an age) the hukou division.
    division: str
    reason: Reason
    dedup_key: str
    dedup_scope: DedupScope
    # Who it is about: a household file, a person, or both.
    household_file: str | None = None
    person: PersonKey | None = None
    # The records that caused it, in the order they were judged; empty for a schedule.
    caused_by: tuple[RecordId, ...] = ()


class Sourced(Protocol):
    @property
    def source(self) -> RecordId: ...


def sources(records: Iterable[Sourced]) -> tuple[RecordId, ...]:
    """The distinct record ids of ``records``, first occurrence first."""
    return tuple(dict.fromkeys(record.source for record in records))
