"""The image smoke test starts every process from the built image as containers, so it needs
podman and ``make image`` first; it runs only when the mark expression asks for it
(``make test-image``: ``-m image``), and a plain ``pytest`` deselects it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# "image" named in the mark expression, and not negated.
_ASKS_FOR_IMAGE = re.compile(r"(?<!not )\bimage\b")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _ASKS_FOR_IMAGE.search(config.getoption("markexpr") or ""):
        return
    # This hook sees every collected item: deselect only ours.
    ours = [item for item in items if HERE in item.path.parents]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if HERE not in item.path.parents]
