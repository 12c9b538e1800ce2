"""The registry service's settings, built once by its ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.config import ConfigError, Variable
from services.common.department import settings as department
from services.common.department.settings import DepartmentSettings

NAME = "registry"


@dataclass(frozen=True)
class Settings:
    department: DepartmentSettings
    # How often divorces past their periods are swept (withdrawn, lapsed).
    sweep_seconds: float


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (*department.variables(NAME), Variable("REGISTRY_SWEEP_SECONDS", "60.0"))


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    sweep = env.number("REGISTRY_SWEEP_SECONDS")
    if sweep <= 0:
        raise ConfigError(f"REGISTRY_SWEEP_SECONDS={sweep}: use a positive number of seconds")
    return Settings(department=department.read(NAME, env), sweep_seconds=sweep)
