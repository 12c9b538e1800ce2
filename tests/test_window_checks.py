"""The catalog's checked_by and the departments' checks agree: the window asks a department
to check an application against its records only where the catalog says so
(gateway/submission.py), so a department that does check a matter must be listed, and one
that is listed must check it. Pure: the checks run with no connection, so any check that
reads its records raises, which here counts as checking."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from onedoor.case.v1 import case_pb2
from services.assistance import economic_check, standards
from services.assistance.department import AssistanceDepartment
from services.common import catalog, legal_calendar
from services.common.clock import BureauClock, zone_named
from services.common.department.rules import Department
from services.common.identity import compose
from services.elderly import allowance
from services.elderly.department import ElderlyDepartment
from services.orgs.department import OrgsDepartment
from services.registry.department import RegistryDepartment

CLOCK = BureauClock(zone_named("Asia/Shanghai"))


def _departments() -> dict[str, Department]:
    return {
        "assistance": AssistanceDepartment(CLOCK, standards.load(), economic_check.connect("fake")),
        "elderly": ElderlyDepartment(CLOCK, allowance.load()),
        "orgs": OrgsDepartment(CLOCK),
        # The registry's divorces keep a pool they never touch in a check.
        "registry": RegistryDepartment(None, CLOCK, legal_calendar.load()),  # type: ignore[arg-type]
    }


def _checks(department: Department, matter: catalog.Matter) -> bool:
    """Whether the department finds anything to say of a bare application of the matter, or
    reads its records to find out."""
    case = case_pb2.Case(matter_code=matter.code, departments=matter.departments)
    case.applicant.id_number = compose("320585", dt.date(1950, 1, 1), 1)
    case.details.other_party.id_number = compose("320585", dt.date(1952, 1, 1), 2)
    connection: Any = None
    try:
        problems = asyncio.run(department.check(connection, case))
    except AttributeError:
        return True
    return bool(problems)


CASES = [
    (matter, department)
    for matter in {m.code: m for m in catalog.load().versions.values()}.values()
    for department in matter.departments
]


@pytest.mark.parametrize(("matter", "department"), CASES, ids=[f"{m.code}-{d}" for m, d in CASES])
def test_the_window_asks_exactly_the_departments_that_check_a_matter(
    matter: catalog.Matter, department: str
) -> None:
    checks = _checks(_departments()[department], matter)
    assert checks == (department in matter.checked_by), (
        f"{department} {'checks' if checks else 'does not check'} {matter.code}: "
        f"{'add it to' if checks else 'remove it from'} the matter's checked_by in the catalog"
    )
