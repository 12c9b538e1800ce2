"""Domain text as codes with typed parameters (onedoor.case.v1.Text), never prose: the
gateway renders them in the reader's language. Every service says what it has to say to
people through these helpers, e.g.

    text(Code.TEXT_CODE_ALLOWANCE_BAND, age=count(82), band=code("80-89"), amount=amount(10000))

Parameters never carry personal data: no names, identity numbers or phones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from onedoor.case.v1 import case_pb2
from onedoor.case.v1.case_pb2 import TextArg as Arg

Code = case_pb2.TextCode


def text(code: case_pb2.TextCode.ValueType, *details: case_pb2.Text, **args: Arg) -> case_pb2.Text:
    made = case_pb2.Text(code=code, details=details)
    for name, arg in args.items():
        named = made.args.add()
        named.CopyFrom(arg)
        named.name = name
    return made


def as_typed(words: str) -> case_pb2.Text:
    """A person's own words (an officer's reason) as a clause, shown as typed."""
    return text(Code.TEXT_CODE_AS_TYPED, text=verbatim(words))


def amount(fen: int) -> Arg:
    return Arg(amount_fen=fen)


def count(n: int) -> Arg:
    return Arg(count=n)


def division(code: str) -> Arg:
    return Arg(division=code)


def date(day: dt.date | str) -> Arg:
    return Arg(date=day if isinstance(day, str) else day.isoformat())


def department(code: str) -> Arg:
    return Arg(department=code)


def departments(codes: Iterable[str]) -> Arg:
    return Arg(departments=case_pb2.DepartmentList(codes=list(codes)))


def matter(code: str) -> Arg:
    return Arg(matter=code)


def matters(codes: Iterable[str]) -> Arg:
    return Arg(matters=case_pb2.MatterList(codes=list(codes)))


def materials(codes: Iterable[str]) -> Arg:
    return Arg(materials=case_pb2.MaterialList(codes=list(codes)))


def decimal(value: float | str) -> Arg:
    return Arg(decimal=str(value))


def code(value: object) -> Arg:
    return Arg(code=str(value))


def verbatim(words: str) -> Arg:
    return Arg(verbatim=words)


def status(value: case_pb2.CaseStatus.ValueType) -> Arg:
    return Arg(status=value)


def flag(value: bool) -> Arg:
    return Arg(flag=value)


def care_service(value: str) -> Arg:
    return Arg(care_service=value)
