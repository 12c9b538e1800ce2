"""Renders the platform's domain texts (codes with typed parameters, onedoor.case.v1.Text) in
the caller's language, from the message catalogs in gateway/texts/ (one TOML file per
language, kept so that a translator edits them). Pure: the catalogs are read once.

The language comes from the HTTP Accept-Language header, or the gRPC ``accept-language``
metadata key, negotiated with Babel; zh-CN when the caller names none the bureau serves."""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from babel import Locale, negotiate_locale
from babel.numbers import format_decimal, parse_pattern
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from gateway import refusal_texts
from onedoor.case.v1 import case_pb2
from services.common import catalog, divisions, texts
from services.common.errors import ApiError, Localized

M = TypeVar("M", bound=Message)
TEXTS = Path(__file__).parent / "texts"
# The languages the bureau serves, the first its own: what an unnamed language falls back to.
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]
# The catalog sections whose keys are codes from outside the TextCode enum.
NAMED_SECTIONS = ("formats", "facts", "departments", "statuses", "care_services", "flags")


class CatalogError(ValueError):
    """A catalog lacks a code, or a text names a placeholder its arguments do not fill."""


@dataclass(frozen=True)
class Catalog:
    language: str
    locale: Locale
    sections: Mapping[str, Mapping[str, str]]

    def entry(self, section: str, key: str) -> str:
        try:
            return self.sections[section][key]
        except KeyError:
            raise CatalogError(f"{self.language} catalog: [{section}] has no {key!r}") from None

    def maybe(self, section: str, key: str) -> str | None:
        return self.sections.get(section, {}).get(key)


@functools.cache
def placeholders(template: str) -> frozenset[str]:
    """The names a catalog text fills in, e.g. {"members", "standard"}."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@functools.cache
def load(language: str) -> Catalog:
    path = TEXTS / f"{language}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Catalog(language, Locale.parse(language, sep="-"), data)


def code_key(code: case_pb2.TextCode.ValueType) -> str:
    return case_pb2.TextCode.Name(code).removeprefix("TEXT_CODE_")


def _preferences(header: str) -> list[str]:
    """The languages an Accept-Language header names, most wanted first (RFC 9110 q-values)."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str | None) -> str:
    """The served language closest to what the caller asked for; zh-CN by default."""
    if not header:
        return DEFAULT_LANGUAGE
    for tag in _preferences(header):
        # Babel matches a served tag and its aliases ("zh-Hans-CN", "zh_CN"); a bare or
        # regional tag ("zh", "zh-TW", "en-GB") falls to its language's served variant.
        found = negotiate_locale([tag], LANGUAGES, sep="-") or negotiate_locale(
            [tag.split("-")[0]], [language.split("-")[0] for language in LANGUAGES], sep="-"
        )
        if found:
            return next(language for language in LANGUAGES if language.startswith(found))
    return DEFAULT_LANGUAGE


# Yuan with two decimals, grouped: parsed once (babel's format_decimal parses it every call).
_AMOUNT = parse_pattern("#,##0.00")


class Renderer:
    """Renders texts, facts and names in one language."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language
        self.catalog = load(language)

    def amount(self, fen: int) -> str:
        number = _AMOUNT.apply(Decimal(fen) / 100, self.catalog.locale, numbering_system="latn")
        return self.catalog.entry("formats", "amount").format(number=number)

    def department(self, code: str) -> str:
        return self.catalog.maybe("departments", code) or code

    def division(self, code: str) -> str:
        if not code:
            return self.catalog.entry("formats", "default_division")
        # Standards are set per division prefix ("3205", Suzhou): its division is "320500".
        found = divisions.lookup(code.ljust(6, "0")) if code.isdigit() and len(code) <= 6 else None
        name = found.name if found else code
        return self.catalog.entry("formats", "division").format(name=name, code=code)

    def matter(self, code: str) -> str:
        matter = catalog.load().latest(code)
        if matter is None:
            return code
        return matter.title_zh if self.language.startswith("zh") else matter.title_en

    def material(self, code: str) -> str:
        found = catalog.load().material(code)
        if found is None:
            return code
        return found.title_zh if self.language.startswith("zh") else found.title_en

    def status(self, status: case_pb2.CaseStatus.ValueType) -> str:
        key = case_pb2.CaseStatus.Name(status).removeprefix("CASE_STATUS_")
        return self.catalog.entry("statuses", key)

    def value(self, arg: case_pb2.TextArg) -> str:
        kind = arg.WhichOneof("value")
        if kind == "amount_fen":
            return self.amount(arg.amount_fen)
        if kind == "count":
            return format_decimal(arg.count, locale=self.catalog.locale)
        if kind == "division":
            return self.division(arg.division)
        if kind == "department":
            return self.department(arg.department)
        if kind == "departments":
            return self.catalog.entry("formats", "list_separator").join(
                self.department(d) for d in arg.departments.codes
            )
        if kind == "matter":
            return self.matter(arg.matter)
        if kind == "matters":
            return self.catalog.entry("formats", "list_separator").join(
                self.matter(m) for m in arg.matters.codes
            )
        if kind == "materials":
            return self.catalog.entry("formats", "list_separator").join(
                self.material(m) for m in arg.materials.codes
            )
        if kind == "decimal":
            return format_decimal(Decimal(arg.decimal), locale=self.catalog.locale)
        if kind == "status":
            return self.status(arg.status)
        if kind == "flag":
            return self.catalog.entry("flags", "yes" if arg.flag else "no")
        if kind == "care_service":
            return self.catalog.maybe("care_services", arg.care_service) or arg.care_service
        if kind is None:
            return ""
        # date, code, verbatim: shown as they are.
        return str(getattr(arg, kind))

    def text(self, text: case_pb2.Text) -> str:
        template = self.catalog.entry("texts", code_key(text.code))
        if text.code == case_pb2.TEXT_CODE_CLAUSES:
            # None of them explains another: side by side, not "first: the others".
            return self.clauses(text.details)
        values = {arg.name: self.value(arg) for arg in text.args}
        missing = placeholders(template) - values.keys()
        if missing:
            raise CatalogError(
                f"{code_key(text.code)} needs {', '.join(sorted(missing))} in {self.language}"
            )
        said = template.format(**values)
        if text.details:
            said += self.catalog.entry("formats", "details").format(
                details=self.clauses(text.details)
            )
        return said

    def clauses(self, texts: Iterable[case_pb2.Text]) -> str:
        return self.catalog.entry("formats", "clause_separator").join(self.text(t) for t in texts)

    def rendered(self, text: case_pb2.Text) -> case_pb2.Text:
        """The text with its rendering (and its details') filled in."""
        out = case_pb2.Text()
        out.CopyFrom(text)
        self.fill(out)
        return out

    def fill(self, text: case_pb2.Text) -> None:
        """Sets ``text.text`` (and its details') in place."""
        for detail in text.details:
            self.fill(detail)
        text.text = self.text(text)

    def fact_label(self, name: str) -> str:
        return self.catalog.maybe("facts", name) or name

    def fact_value(self, value: str, typed: case_pb2.TextArg | None) -> str:
        if typed is not None and typed.WhichOneof("value") is not None:
            return self.value(typed)
        return value


# What the renderer fills in: domain texts, and the gateway's facts and assessments.
_RENDERED = frozenset(
    {case_pb2.Text.DESCRIPTOR.full_name, "onedoor.gateway.v1.Fact", "onedoor.gateway.v1.Assessment"}
)


@functools.cache
def _holds_rendered(descriptor: Descriptor) -> bool:
    """Whether a message of this type is, or may hold, something the renderer fills in: the
    walk skips the rest (a case's people, its details), which hold most of its fields."""
    seen: set[str] = set()
    pending = [descriptor]
    while pending:
        current = pending.pop()
        if current.full_name in _RENDERED:
            return True
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        pending.extend(f.message_type for f in current.fields if f.message_type is not None)
    return False


def _fill_tree(message: Message, renderer: Renderer) -> None:
    """Renders every Text in ``message``, and the gateway's facts and assessments."""
    if isinstance(message, case_pb2.Text):
        renderer.fill(message)
        return
    if not _holds_rendered(message.DESCRIPTOR):
        return
    name = message.DESCRIPTOR.full_name
    if name == "onedoor.gateway.v1.Fact":
        typed = message.typed if message.HasField("typed") else None  # type: ignore[attr-defined]
        message.label = renderer.fact_label(message.name)  # type: ignore[attr-defined]
        message.text = renderer.fact_value(message.value, typed)  # type: ignore[attr-defined]
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.is_repeated and not field.message_type.GetOptions().map_entry:
            for item in value:
                _fill_tree(item, renderer)
        elif not field.is_repeated:
            _fill_tree(value, renderer)
    if name == "onedoor.gateway.v1.Assessment" and message.findings:  # type: ignore[attr-defined]
        message.reason = renderer.clauses(message.findings)  # type: ignore[attr-defined]


def localize(message: M, language: str) -> M:
    """The message with every domain text in it rendered in ``language``, in place."""
    _fill_tree(message, Renderer(language))
    return message


def _said_safely(renderer: Renderer, said: case_pb2.Text, fallback: case_pb2.Text) -> str:
    # An error is answered whatever its parameters: a text its catalog cannot fill falls back.
    try:
        return renderer.text(said)
    except (CatalogError, ValueError, KeyError):
        return renderer.text(fallback)


def localized_error(error: ApiError, language: str) -> Localized:
    """The error as people read it in ``language`` (AIP-193's LocalizedMessage): its sentence
    and each field violation's."""
    renderer = Renderer(language)
    message = _said_safely(
        renderer,
        refusal_texts.message_text(error),
        texts.text(texts.Code.TEXT_CODE_ERROR_FAILED_PRECONDITION),
    )
    violations = tuple(
        _said_safely(
            renderer,
            refusal_texts.violation_text(v),
            texts.text(texts.Code.TEXT_CODE_FIELD_INVALID),
        )
        for v in error.violations
    )
    return Localized(language, message, violations)


def localize_error(error: ApiError, language: str) -> ApiError:
    """The error with its rendering for people in ``language`` attached, in place."""
    error.localized = localized_error(error, language)
    return error
