"""The GB/T 2260 table as the console's browser checks a hukou division against it: the same
table the gateway validates with, so the clerk sees at once what the server would refuse."""

from __future__ import annotations

import functools
import json

from services.common import divisions


@functools.cache
def division_table_json() -> bytes:
    """``{"divisions": {code: [name, parent]}}``: the browser builds full names from parents,
    which keeps the body near a third of what the joined names would take."""
    table = {
        division.code: [division.name, division.parent or ""]
        # The gateway's own table, so the console can never disagree with its validation.
        for division in divisions.every()
    }
    return json.dumps({"divisions": table}, ensure_ascii=False, separators=(",", ":")).encode()
