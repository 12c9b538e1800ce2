"""The backup drill runs two PostgreSQL instances of its own and two platforms, about a minute;
it runs only when the mark expression asks for it
(``make backup-drill``: ``-m backup_drill``), and a plain ``pytest`` deselects it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# "backup_drill" named in the mark expression, and not negated.
_ASKS_FOR_DRILL = re.compile(r"(?<!not )\bbackup_drill\b")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _ASKS_FOR_DRILL.search(config.getoption("markexpr") or ""):
        return
    # This hook sees every collected item: deselect only ours.
    ours = [item for item in items if HERE in item.path.parents]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if HERE not in item.path.parents]
