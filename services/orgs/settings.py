"""The social organisations service's settings, built once by its ``__main__``: what every
department reads, nothing of its own."""

from __future__ import annotations

from collections.abc import Mapping

from services.common import config
from services.common.config import Variable
from services.common.department import settings as department
from services.common.department.settings import DepartmentSettings

NAME = "orgs"


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return department.variables(NAME)


def from_env(environ: Mapping[str, str] | None = None) -> DepartmentSettings:
    return department.read(NAME, config.environment(variables(environ), environ))
