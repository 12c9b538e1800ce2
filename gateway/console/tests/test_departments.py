"""The console learns the departments from the catalog the API serves (GET /v1/matters): no
script lists them. Only strings.js names each one, to label it in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from services.common.catalog import DEPARTMENTS

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_no_script_lists_the_departments():
    for script in STATIC.glob("*.js"):
        if script.name == "strings.js":
            continue
        text = script.read_text(encoding="utf-8")
        quoted = {d for d in DEPARTMENTS if re.search(rf"[\"'`]{d}[\"'`]", text)}
        assert len(quoted) < 2, f"{script.name} spells out departments {sorted(quoted)}"


def test_every_department_has_a_label_in_both_languages():
    strings = (STATIC / "strings.js").read_text(encoding="utf-8")
    for department in DEPARTMENTS:
        assert strings.count(f'"department.{department}"') == 2, department
