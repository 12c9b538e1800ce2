"""The elderly care service's settings, built once by its ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.common import config
from services.common.config import ConfigError, Variable
from services.common.department import settings as department
from services.common.department.settings import DepartmentSettings
from services.elderly import allowance

NAME = "elderly"


@dataclass(frozen=True)
class Settings:
    department: DepartmentSettings
    # The age allowance's bands and amounts per jurisdiction.
    allowance_file: Path


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *department.variables(NAME),
        Variable("AGE_ALLOWANCE_FILE", str(allowance.DEFAULT_FILE)),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    allowance_file = Path(env.text("AGE_ALLOWANCE_FILE"))
    if not allowance_file.is_file():
        raise ConfigError(f"AGE_ALLOWANCE_FILE={allowance_file} is not a file")
    return Settings(department=department.read(NAME, env), allowance_file=allowance_file)
