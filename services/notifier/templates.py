"""The messages' words: one template per event and matter in each language, from the data
files beside this module (templates/zh-CN.toml, templates/en.toml), rendered with the
notice's arguments. Chinese unless the person asked for English at the window.

A message says which case it is about by its receipt with the middle group masked
(``320585-*****-QX2MA``): a text message shows on a locked phone's screen, and the receipt is
half of what opens the case's status page. It never names a person or carries an identity
number (templates.toml holds no such placeholder, and the arguments are dates, codes and
what an officer typed).
"""

from __future__ import annotations

import datetime as dt
import functools
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date

from services.common import catalog
from services.notifier.notices import EN, LANGUAGES, ZH, Event, Notice, applies

DIRECTORY = Path(__file__).parent / "templates"
# Arguments that are the bureau's local dates, written out as each language writes a date.
DATES = frozenset(
    {
        "deadline",
        "cooling_off_last_day",
        "confirmation_first_day",
        "confirmation_last_day",
        "confirm_by",
    }
)
_BABEL_LOCALE = {ZH: "zh_CN", EN: "en_GB"}


class MissingTemplate(LookupError):
    """No template for an event and matter in a language."""


@dataclass(frozen=True)
class Templates:
    # language -> event value -> matter code or "default" -> template
    by_language: Mapping[str, Mapping[str, Mapping[str, str]]]
    departments: Mapping[str, Mapping[str, str]]

    def template(self, language: str, event: Event, matter: str) -> str:
        entries = self.by_language[language].get(event.value, {})
        found = entries.get(matter) or entries.get("default")
        if found is None or not applies(event, matter):
            raise MissingTemplate(f"no {language} template for {event.value} of {matter}")
        return found


def parse(texts: Mapping[str, str]) -> Templates:
    by_language: dict[str, dict[str, dict[str, str]]] = {}
    departments: dict[str, dict[str, str]] = {}
    for language, text in texts.items():
        data = tomllib.loads(text)
        departments[language] = dict(data.pop("departments", {}))
        by_language[language] = {event: dict(entries) for event, entries in data.items()}
    return Templates(by_language, departments)


@functools.cache
def load() -> Templates:
    return parse({lang: (DIRECTORY / f"{lang}.toml").read_text() for lang in LANGUAGES})


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def masked_receipt(receipt: str) -> str:
    division, _, rest = receipt.partition("-")
    middle, _, last = rest.partition("-")
    return f"{division}-{'*' * len(middle)}-{last}" if last else receipt


def matter_title(matter_code: str, language: str) -> str:
    matter = catalog.load().latest(matter_code)
    if matter is None:
        return matter_code
    return matter.title_en if language == EN else matter.title_zh


@dataclass(frozen=True)
class Sender:
    """How the messages sign and where they send a person for an administrative review."""

    bureau: dict[str, str]
    review: dict[str, str]


def render(notice: Notice, sender: Sender, templates: Templates | None = None) -> str:
    """The message for ``notice`` in its recipient's language."""
    templates = templates or load()
    language = notice.contact.language
    template = templates.template(language, notice.event, notice.matter)
    values: dict[str, str] = {}
    for name, value in notice.args.items():
        if name in DATES and value:
            values[name] = format_date(
                dt.date.fromisoformat(value), "long", locale=_BABEL_LOCALE[language]
            )
        else:
            values[name] = value
    department = notice.args.get("department", "")
    values |= {
        "bureau": sender.bureau[language],
        "review": sender.review[language],
        "matter": matter_title(notice.matter, language),
        "receipt": masked_receipt(notice.receipt),
        "department": templates.departments[language].get(department, department),
    }
    return template.format_map(_Strict(values))


class _Strict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise MissingTemplate(f"template placeholder {{{key}}} has no value")


__all__ = ["EN", "ZH", "MissingTemplate", "Sender", "Templates", "load", "render"]
