"""What the launcher (``make run``, the tests' platforms, the benchmark) reads itself: the key
the demo signs its tokens with, the one its children's gateways verify them with, and the
service token its children hold each other to, with which the benchmark calls a department
directly (they inherit this environment). Everything else it hands its children is in
``Platform.platform_env``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.config import Keys, Variable

KEYS = ("jwt", "service_token")


@dataclass(frozen=True)
class Settings:
    keys: Keys


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return Keys.variables(*KEYS)


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    return Settings(keys=Keys.read(config.environment(variables(environ), environ), *KEYS))
