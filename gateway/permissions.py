"""Who may do what at the window. Every check runs before anything is changed; the role and
the window's jurisdiction before anything is read, a case's own jurisdiction (and, for an
officer, its departments) as soon as the case is read.

| role          | may                                                                   |
|---------------|-----------------------------------------------------------------------|
| window_clerk  | submit at a window of its jurisdiction; look up, list (work lists),   |
|               | search by person, supply materials and confirm or withdraw divorces   |
|               | for cases accepted in its jurisdiction                                |
| officer       | its own department's queue, case files and decisions, in its          |
|               | jurisdiction; look up and list the cases its department decides there;|
|               | its department's warnings queue there (list, contact, dismiss)        |
| auditor       | the audit log of its jurisdiction (by case, actor and day) and the    |
|               | verification of its hash chain                                        |
| operator      | health, and the forwards to peer bureaus of its jurisdiction          |
| agency        | nothing here: it pushes records to the ingest service, which asks     |
|               | services.common.auth.pushing_agency and the persons' jurisdiction     |
Every role may read the catalog of matters.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.common.auth import Principal, deny


def require_role(caller: Principal, *roles: str) -> None:
    if caller.role not in roles:
        raise deny(f"a {caller.role} may not do this; it takes a {' or '.join(roles)}")


def require_jurisdiction(caller: Principal, division: str) -> None:
    if not caller.covers(division):
        raise deny(
            f"division {division} is outside the caller's jurisdiction {caller.jurisdiction}"
        )


def clerk_at(caller: Principal, window_division: str) -> None:
    require_role(caller, "window_clerk")
    require_jurisdiction(caller, window_division)


def case_reader(caller: Principal, accepting_division: str, departments: Sequence[str]) -> None:
    """Clerks of the accepting jurisdiction, and officers of a deciding department there."""
    require_role(caller, "window_clerk", "officer")
    require_jurisdiction(caller, accepting_division)
    if caller.role == "officer" and caller.department not in departments:
        raise deny(f"the case is not one of the {caller.department} department's")


def officer_of(caller: Principal, department: str, window_division: str) -> None:
    require_role(caller, "officer")
    if caller.department != department:
        raise deny(f"an officer of {caller.department} may not act for {department}")
    require_jurisdiction(caller, window_division)
