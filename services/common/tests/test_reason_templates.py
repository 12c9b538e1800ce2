"""The reason templates: every matter has its own, approvals included where an officer
approves (a divorce and a death, which no officer approves, have none to approve); a template
of an unknown decision kind is refused."""

from __future__ import annotations

import pytest

from services.common import catalog
from services.common.catalog import reasons

NEVER_APPROVED = {"registry.divorce", "registry.death"}


def test_every_matter_has_its_own_templates_for_what_an_officer_decides():
    for code, _ in catalog.load().versions:
        kinds = {t.decision for t in reasons.load() if t.matter == code}
        assert "request_materials" in kinds, code
        assert ("approve" in kinds) is (code not in NEVER_APPROVED), code


def test_a_matters_own_approval_comes_before_the_general_one():
    approvals = [t.code for t in reasons.for_matter("assistance.dibao") if t.decision == "approve"]
    assert approvals == ["income_below_standard", "meets_conditions"]


def test_an_unknown_decision_kind_is_refused():
    text = '[[reason]]\nmatter = "*"\ndecision = "ponder"\ncode = "x"\ntext = "y"\n'
    with pytest.raises(ValueError, match=r"reason\[0\]\.decision"):
        reasons.parse(text, frozenset())
