"""The social assistance service's settings, built once by its ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.assistance import economic_check, standards
from services.common import config
from services.common.config import ConfigError, Variable
from services.common.department import settings as department
from services.common.department.settings import DepartmentSettings

NAME = "assistance"


@dataclass(frozen=True)
class Settings:
    department: DepartmentSettings
    # The dibao and disability standards per jurisdiction.
    standards_file: Path
    # Where the household economic-status check asks: the fake bank (and its file) so far.
    economic_check_adapter: str
    economic_check_fake_file: str


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *department.variables(NAME),
        Variable("DIBAO_STANDARDS_FILE", str(standards.DEFAULT_FILE)),
        Variable("ECONOMIC_CHECK_ADAPTER", "fake"),
        Variable("ECONOMIC_CHECK_FAKE_FILE", ""),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    standards_file = Path(env.text("DIBAO_STANDARDS_FILE"))
    if not standards_file.is_file():
        raise ConfigError(f"DIBAO_STANDARDS_FILE={standards_file} is not a file")
    return Settings(
        department=department.read(NAME, env),
        standards_file=standards_file,
        economic_check_adapter=env.choice("ECONOMIC_CHECK_ADAPTER", economic_check.ADAPTERS),
        economic_check_fake_file=env.text("ECONOMIC_CHECK_FAKE_FILE"),
    )
